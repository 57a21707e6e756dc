"""The Qt-free core of tlgui: models, layer trees, freezing, heads, weights.

Nothing in this package imports Qt; ``tests/test_layering.py`` proves it.
"""

from tlgui.core.errors import (
    CheckpointError,
    FactoryError,
    NoMatchError,
    SurgeryError,
    TlguiError,
    UnknownModelError,
    UnsafeCheckpointError,
    WeightsUnavailableError,
)
from tlgui.core.model.branch import add_parallel_branch
from tlgui.core.model.checkpoint import LoadReport, load_weights_file, read_state_dict
from tlgui.core.model.freeze import (
    freeze,
    freeze_all_but_head,
    freeze_up_to,
    frozen_modules,
    select_layers,
    set_train_mode,
    set_trainable,
    trainable_state,
    unfreeze,
    unfreeze_all,
    unfreeze_from,
)
from tlgui.core.model.heads import classifier_width, find_classifier, replace_head
from tlgui.core.model.provenance import Origin, provenance
from tlgui.core.model.tree import LayerNode, LayerTree
from tlgui.core.model.weights import Snapshot, TensorDiff, diff, snapshot, summarize, tensor_sha256
from tlgui.core.model.zoo import LoadedModel, known_names, load_model
from tlgui.core.train.optim import build_optimizer

__all__ = [
    "CheckpointError", "FactoryError", "LayerNode", "LayerTree", "LoadReport", "LoadedModel",
    "NoMatchError", "Origin", "Snapshot", "SurgeryError", "TensorDiff", "TlguiError",
    "UnknownModelError", "UnsafeCheckpointError", "WeightsUnavailableError", "add_parallel_branch",
    "build_optimizer", "classifier_width", "diff", "find_classifier", "freeze",
    "freeze_all_but_head", "freeze_up_to", "frozen_modules", "known_names", "load_model",
    "load_weights_file", "provenance", "read_state_dict", "replace_head", "select_layers",
    "set_train_mode", "set_trainable", "snapshot", "summarize", "tensor_sha256", "trainable_state",
    "unfreeze", "unfreeze_all", "unfreeze_from",
]
