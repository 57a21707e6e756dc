"""The one training service: check, lock the run folder, train, write the run record.

``tlgui train`` and every cell of the experiment grid call :func:`train_run`; a refused run
(bad settings, a resume of another model, a folder held by another process) writes nothing.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tlgui.core.config import TrainConfig, config_differences
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import ValidationError
from tlgui.core.model.recipe import Experiment
from tlgui.core.runs.lock import RunLock
from tlgui.core.runs.record import write_run
from tlgui.core.train import checkpoints
from tlgui.core.train.engine import Trainer
from tlgui.core.train.run_logs import EventLog
from tlgui.core.train.train_events import StopToken, TrainListener


def _plain_recipe(ops: list[dict]) -> list[dict]:
    return [{k: v for k, v in op.items() if k != "trust_code"} for op in ops]


def resume_differences(folder: Path, experiment: Experiment, config: TrainConfig) -> list[str]:
    """What differs between the run saved in ``folder`` and this one (empty: it resumes)."""
    saved = checkpoints.load(folder / "checkpoints")  # a plain error for a missing checkpoint
    record_path = folder / "run.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    old_config = TrainConfig.from_dict(record.get("config") or saved.get("config") or {})
    found = config_differences(old_config, config)
    old_ops, new_ops = _plain_recipe(record.get("recipe") or []), _plain_recipe(experiment.ops)
    if old_ops and old_ops != new_ops:
        old_load, new_load = old_ops[0], new_ops[0]
        if (old_load.get("model"), old_load.get("weights")) != (new_load.get("model"),
                                                                new_load.get("weights")):
            found.insert(0, f"model: {old_load.get('model')} ({old_load.get('weights')} "
                            f"weights) → {new_load.get('model')} ({new_load.get('weights')} "
                            "weights)")
        else:
            found.insert(0, "the model's recipe (head, branch or freezing) differs")
    return found


def check_run_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValidationError(f"{out} is a file; --out needs a folder (new, or a run to "
                              "resume)", "out")


class TrainingJob:
    """A checked run, ready to train: ``run()`` (on any thread) trains and, with a folder,
    holds its lock while training and writes the run record. Everything that can refuse
    the run is checked here, before anything is written. ``writes`` is False on torchrun's
    other ranks: they write no files. ``more_listeners(trainer)`` adds listeners that need
    the trainer (TensorBoard); they and ``events.jsonl`` start once the folder is locked."""

    def __init__(self, experiment: Experiment, data: DataIndex, config: TrainConfig, *,
                 out: str | Path | None = None, listeners: list[TrainListener] | tuple = (),
                 stop: StopToken | None = None, resume: str | Path | None = None,
                 writes: bool = True,
                 more_listeners: Callable[[Trainer], list[TrainListener]] | None = None) -> None:
        self.out = Path(out) if out is not None and writes else None
        if self.out is not None:
            check_run_folder(self.out)
            config = replace(config, checkpoint_dir=str(self.out / "checkpoints"))
        elif out is not None:
            config = replace(config, checkpoint_dir=None)
        if resume is not None:
            differences = resume_differences(Path(resume), experiment, config)
            if differences:
                raise ValidationError(
                    f"cannot resume {resume}: it was trained with other settings "
                    f"({'; '.join(differences)}); start a new run with another --out instead",
                    "resume")
        self.experiment, self.data = experiment, data
        self.resume_from = Path(resume) / "checkpoints" if resume else None
        self.more_listeners = more_listeners
        self.trainer = Trainer(experiment.model, data, experiment.loaded.transform, config,
                               listeners=listeners, stop=stop, original=experiment.original)

    def run(self) -> Trainer:
        trainer = self.trainer
        if self.out is None:
            trainer.fit(resume_from=self.resume_from)
            return trainer
        with RunLock(self.out, say=trainer._say):
            trainer.listeners.append(EventLog(self.out / "events.jsonl"))
            if self.more_listeners is not None:
                trainer.listeners += self.more_listeners(trainer)
            trainer.fit(resume_from=self.resume_from)
            write_run(self.out, self.experiment, self.data, trainer)
        return trainer


def train_run(out: str | Path, experiment: Experiment, data: DataIndex, config: TrainConfig,
              **options) -> Trainer:
    """Train ``experiment`` on ``data`` into the run folder ``out`` (see TrainingJob) and
    return the trainer (``trainer.result``, ``trainer.integrity``)."""
    return TrainingJob(experiment, data, config, out=out, **options).run()
