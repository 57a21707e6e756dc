"""A training run as a folder: ``run.json`` (recipe, settings, classes, data), ``history.json``,
``integrity.json``, ``model.safetensors`` and ``checkpoints/``. ``tlgui train`` and every cell
of a comparison write the same files, so any of them can be evaluated, resumed or exported."""

import json
import shlex
from pathlib import Path

from safetensors.torch import save_file

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import TlguiError
from tlgui.core.project.recipe import Experiment
from tlgui.core.train.engine import Trainer


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
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              str(folder / START_WEIGHTS))
    data = shlex.quote(data_hint)
    commands = [f"tlgui train --from {shlex.quote(str(folder))} --data {data} --out run",
                f"torchrun --nproc-per-node 2 -m tlgui train --from {shlex.quote(str(folder))} "
                f"--data {data} --out run"]
    (folder / "COMMANDS.txt").write_text(
        "# Train this model elsewhere; the settings and starting weights are in this folder.\n"
        "# Replace the data path; for N GPUs, set --nproc-per-node N.\n" + "\n".join(commands)
        + "\n")
    return commands


def load_plan(folder: str | Path, trust_code: bool = False) -> tuple[Experiment, TrainConfig]:
    """The experiment (recipe replayed, starting weights and trainable flags restored) and the
    settings of a folder written by :func:`export_plan`."""
    from safetensors.torch import load_file

    from tlgui.core.project.recipe import build

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
