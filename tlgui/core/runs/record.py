"""A training run as a folder: ``run.json`` (recipe, settings, classes, data, versions),
``split.json`` (the exact files of every split), ``history.json``,
``integrity.json``, ``model.safetensors`` and ``checkpoints/``. ``tlgui train`` and every cell
of a comparison write the same files, so any of them can be evaluated, resumed or exported."""

import json
import os
import shlex
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataIndex, base_folder
from tlgui.core.errors import TlguiError
from tlgui.core.files import write_atomically, write_text_atomically
from tlgui.core.model.recipe import Experiment
from tlgui.core.train.engine import Trainer

SPLIT_FILE = "split.json"


def write_json(path: Path, data: object) -> None:
    """Atomically: a temporary file renamed into place."""
    write_text_atomically(path, json.dumps(data, indent=1, default=str))


def save_weights(path: Path, model: nn.Module) -> None:
    """The model's state dict as safetensors, written atomically."""
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_atomically(path, lambda temp: save_file(weights, temp), TlguiError)


def versions() -> dict[str, str]:
    """The software a run was made with."""
    import platform

    import timm
    import torchvision

    from tlgui import __version__

    return {"tlgui": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "timm": timm.__version__,
            "python": platform.python_version()}


def split_record(data: DataIndex) -> dict:
    """The exact split: every file per split (relative to the data root), how a single
    folder was split, and the index's fingerprint (checked when the split is read back)."""
    root = base_folder(data)
    return {"root": str(data.root), "layout": data.layout, "classes": data.classes,
            "split_ratio": data.split_ratio, "seed": data.seed,
            "fingerprint": data.fingerprint(), "corrections": data.corrected,
            "files": {split: [[os.path.relpath(path, root), label] for path, label in samples]
                      for split, samples in data.splits.items()}}


def read_split(folder: str | Path) -> DataIndex:
    """The DataIndex a run trained on, exactly as recorded in its ``split.json``."""
    path = Path(folder) / SPLIT_FILE
    try:
        record = json.loads(path.read_text())
        root = Path(record["root"])
        index = DataIndex(root=root, layout=record["layout"], classes=list(record["classes"]),
                          split_ratio=record.get("split_ratio"), seed=record.get("seed"),
                          corrected=record.get("corrections") or {})
        base = base_folder(index)
        index.splits = {split: [(base / rel, int(label)) for rel, label in files]
                        for split, files in record["files"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TlguiError(f"{path} is missing or damaged, so the run's exact split is unknown; "
                         "give the data with --data to evaluate on a folder as it is now") from exc
    if index.fingerprint() != record["fingerprint"]:
        raise TlguiError(f"{path} is damaged (its file lists do not match their fingerprint)")
    return index


def write_run(out: Path, experiment: Experiment, data: DataIndex, trainer: Trainer) -> None:
    """Everything a finished (or stopped, or failed) ``trainer.fit()`` leaves behind."""
    out.mkdir(parents=True, exist_ok=True)
    result = trainer.result
    write_json(out / SPLIT_FILE, split_record(data))
    write_json(out / "run.json", {"format": 2, "recipe": experiment.ops,
                                  "config": trainer.config.as_dict(), "classes": data.classes,
                                  "data": str(data.root), "split": SPLIT_FILE,
                                  "fingerprint": data.fingerprint(), "corrections": data.corrected,
                                  "versions": versions()})
    write_json(out / "history.json", {
        "epochs": [vars(h) for h in result.history], "stopped": result.stopped,
        "error": result.error, "best_epoch": result.best_epoch,
        "skipped_files": result.skipped_files})
    if trainer.integrity is not None:
        write_json(out / "integrity.json", trainer.integrity.as_dict())
    save_weights(out / "model.safetensors", experiment.model)


PLAN_FILE, START_WEIGHTS = "recipe.json", "start.safetensors"


def export_plan(folder: str | Path, experiment: Experiment, config: TrainConfig,
                data_hint: str = "DATA") -> list[str]:
    """A folder that trains elsewhere: the recipe, the settings and the weights it starts
    from, plus the command lines (one process, or torchrun on N) in COMMANDS.txt."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = experiment.model
    write_json(folder / PLAN_FILE, {
        "format": 1, "recipe": experiment.ops,
        "config": {**config.as_dict(), "checkpoint_dir": None},
        "trainable": [n for n, p in model.named_parameters() if p.requires_grad]})
    save_weights(folder / START_WEIGHTS, model)
    data = shlex.quote(data_hint)
    commands = [f"tlgui train --from {shlex.quote(str(folder))} --data {data} --out run",
                f"torchrun --nproc-per-node 2 -m tlgui train --from {shlex.quote(str(folder))} "
                f"--data {data} --out run"]
    text = ("# Train this model elsewhere; the settings and starting weights are in this folder.\n"
            "# Replace the data path; for N GPUs, set --nproc-per-node N.\n" + "\n".join(commands)
            + "\n")
    write_text_atomically(folder / "COMMANDS.txt", text)
    return commands


def load_plan(folder: str | Path, trust_code: bool = False) -> tuple[Experiment, TrainConfig]:
    """The experiment (recipe replayed, starting weights and trainable flags restored) and the
    settings of a folder written by :func:`export_plan`."""
    from safetensors.torch import load_file

    from tlgui.core.model.recipe import build

    folder = Path(folder)
    try:
        plan = json.loads((folder / PLAN_FILE).read_text())
        weights = load_file(str(folder / START_WEIGHTS))
        config = TrainConfig.from_dict(plan["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TlguiError(f"{folder} is not a folder exported for training elsewhere (it needs "
                         f"{PLAN_FILE} and {START_WEIGHTS})") from exc
    experiment = build(plan.get("recipe"), trust_code=trust_code)
    try:
        experiment.model.load_state_dict(weights)
    except RuntimeError as exc:
        raise TlguiError(f"the weights in {folder} do not fit the network its recipe builds"
                         ) from exc
    trainable = set(plan.get("trainable", []))
    for name, param in experiment.model.named_parameters():
        param.requires_grad_(name in trainable)
    return experiment, config
