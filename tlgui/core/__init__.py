"""The Qt-free core of tlgui: models, layer trees, freezing, heads, weights.

Nothing in this package imports Qt; ``tests/test_layering.py`` proves it. The everyday names
below are imported on first use, so that ``tlgui.core.config`` loads without torch.
"""

import importlib

_HOMES = {
    "CheckpointError": "tlgui.core.errors",
    "FactoryError": "tlgui.core.errors",
    "LayerNode": "tlgui.core.model.tree",
    "LayerTree": "tlgui.core.model.tree",
    "LoadReport": "tlgui.core.model.weight_files",
    "LoadedModel": "tlgui.core.model.loaded",
    "NoMatchError": "tlgui.core.errors",
    "Origin": "tlgui.core.model.provenance",
    "Snapshot": "tlgui.core.model.snapshots",
    "SurgeryError": "tlgui.core.errors",
    "TensorDiff": "tlgui.core.model.snapshots",
    "TlguiError": "tlgui.core.errors",
    "UnknownModelError": "tlgui.core.errors",
    "UnsafeCheckpointError": "tlgui.core.errors",
    "WeightsUnavailableError": "tlgui.core.errors",
    "add_parallel_branch": "tlgui.core.model.branch",
    "build_optimizer": "tlgui.core.train.optim",
    "classifier_width": "tlgui.core.model.heads",
    "diff": "tlgui.core.model.snapshots",
    "find_classifier": "tlgui.core.model.heads",
    "freeze": "tlgui.core.model.freeze",
    "freeze_all_but_head": "tlgui.core.model.freeze",
    "freeze_up_to": "tlgui.core.model.freeze",
    "frozen_modules": "tlgui.core.model.freeze",
    "known_names": "tlgui.core.model.sources",
    "load_model": "tlgui.core.model.sources",
    "load_weights_file": "tlgui.core.model.weight_files",
    "provenance": "tlgui.core.model.provenance",
    "read_state_dict": "tlgui.core.model.weight_files",
    "replace_head": "tlgui.core.model.heads",
    "select_layers": "tlgui.core.model.freeze",
    "set_train_mode": "tlgui.core.model.freeze",
    "set_trainable": "tlgui.core.model.freeze",
    "snapshot": "tlgui.core.model.snapshots",
    "summarize": "tlgui.core.model.snapshots",
    "tensor_sha256": "tlgui.core.model.snapshots",
    "trainable_state": "tlgui.core.model.freeze",
    "unfreeze": "tlgui.core.model.freeze",
    "unfreeze_all": "tlgui.core.model.freeze",
    "unfreeze_from": "tlgui.core.model.freeze",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'tlgui.core' has no attribute '{name}'")
    return getattr(importlib.import_module(_HOMES[name]), name)
