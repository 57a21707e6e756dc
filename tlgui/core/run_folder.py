"""A training run as a folder: ``run.json`` (recipe, settings, classes, data), ``history.json``,
``integrity.json``, ``model.safetensors`` and ``checkpoints/``. ``tlgui train`` and every cell
of a comparison write the same files, so any of them can be evaluated, resumed or exported."""

import json
from pathlib import Path

from safetensors.torch import save_file

from tlgui.core.data_index import DataIndex
from tlgui.core.engine import Trainer
from tlgui.core.recipe import Experiment


def write_json(path: Path, data: object) -> None:
    """Atomically: a temporary file renamed into place."""
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(json.dumps(data, indent=1, default=str))
    temp.replace(path)


def write_run(out: Path, experiment: Experiment, data: DataIndex, trainer: Trainer) -> None:
    """Everything a finished (or stopped, or failed) ``trainer.fit()`` leaves behind."""
    out.mkdir(parents=True, exist_ok=True)
    result = trainer.result
    write_json(out / "run.json", {"recipe": experiment.ops, "config": trainer.config.as_dict(),
                                  "classes": data.classes, "data": str(data.root)})
    write_json(out / "history.json", {
        "epochs": [vars(h) for h in result.history], "stopped": result.stopped,
        "error": result.error, "best_epoch": result.best_epoch,
        "skipped_files": result.skipped_files})
    if trainer.integrity is not None:
        write_json(out / "integrity.json", trainer.integrity.as_dict())
    weights = {k: v.detach().cpu().contiguous() for k, v in experiment.model.state_dict().items()}
    save_file(weights, str(out / "model.safetensors"))
