"""What a run leaves for others to read while it trains: ``events.jsonl`` (one JSON object per
engine event, appended and flushed as it happens, so another process can follow the run) and
TensorBoard event files under ``RUN/tb/`` (scalars per batch and epoch, learning rate per
parameter group, the model graph, hyper-parameters with the final metrics)."""

import json
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from tlgui.core.config import TrainConfig
from tlgui.core.train.train_events import EVENT_FIELDS, BatchStats, EpochStats, FitResult, TrainListener

BATCH_EVENT_INTERVAL_S = 1.0


class EventLog(TrainListener):
    """Appends ``{"event": ..., "time": ..., ...}`` lines to ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("a", encoding="utf-8")
        self.last_batch = 0.0

    def write(self, event: str, **fields) -> None:
        if tuple(fields) != EVENT_FIELDS[event]:
            raise ValueError(f"the '{event}' event has fields {tuple(fields)}, but the schema "
                             f"(train_events.EVENT_FIELDS) says {EVENT_FIELDS[event]}")
        self.handle.write(json.dumps({"event": event, "time": time.time(), **fields},
                                     default=str) + "\n")
        self.handle.flush()

    def on_fit_start(self, config: TrainConfig, epochs: int, batches_per_epoch: int) -> None:
        self.write("fit_start", config=config.as_dict(), epochs=epochs,
                   batches_per_epoch=batches_per_epoch)

    def on_batch_end(self, stats: BatchStats) -> None:
        now = time.monotonic()
        if now - self.last_batch >= BATCH_EVENT_INTERVAL_S or stats.batch + 1 == stats.batches:
            self.last_batch = now
            self.write("batch_end", **asdict(stats))

    def on_epoch_end(self, stats: EpochStats) -> None:
        self.write("epoch_end", **asdict(stats))

    def on_checkpoint(self, epoch: int, path: str, best: bool) -> None:
        self.write("checkpoint", epoch=epoch, path=path, best=best)

    def on_unfreeze(self, epoch: int, what: str) -> None:
        self.write("unfreeze", epoch=epoch, what=what)

    def on_integrity(self, report: dict) -> None:
        changed = [t["name"] for t in report["tensors"] if t.get("verdict") != "unchanged"]
        self.write("integrity", passed=report["passed"], alarms=report["alarms"],
                   original_changed=report["original_changed"], changed=changed[:50],
                   tensors=len(report["tensors"]))

    def on_message(self, text: str) -> None:
        self.write("message", text=text)

    def on_exception(self, error: BaseException, message: str) -> None:
        self.write("error", message=message)

    def on_fit_end(self, result: FitResult) -> None:
        self.write("fit_end", stopped=result.stopped, error=result.error,
                   epochs=len(result.history), best_epoch=result.best_epoch)
        self.handle.close()


class TensorBoardLog(TrainListener):
    """TensorBoard scalars, learning rates, graph and hparams under ``folder``."""

    def __init__(self, folder: str | Path, model: nn.Module, input_size: tuple[int, ...],
                 optimizer_groups=None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder))
        self.model, self.input_size = model, input_size
        self.optimizer_groups = optimizer_groups  # callable giving the live param groups
        self.config: TrainConfig | None = None
        self.step = 0
        self.last: EpochStats | None = None

    def on_fit_start(self, config: TrainConfig, epochs: int, batches_per_epoch: int) -> None:
        self.config, self.batches = config, max(batches_per_epoch, 1)
        try:
            param = next(self.model.parameters())
            example = torch.zeros(1, *self.input_size, device=param.device, dtype=param.dtype)
            mode = self.model.training
            self.model.eval()
            with warnings.catch_warnings():  # add_graph traces with torch.jit, now deprecated
                warnings.simplefilter("ignore", FutureWarning)
                self.writer.add_graph(self.model, example)
            self.model.train(mode)
        except Exception as exc:  # a graph that cannot be traced still leaves the scalars
            self.writer.add_text("graph", f"not drawn: {str(exc).splitlines()[0] if str(exc) else exc!r}")

    def on_batch_end(self, stats: BatchStats) -> None:
        self.step = stats.epoch * self.batches + stats.batch + 1
        self.writer.add_scalar("batch/loss", stats.loss, self.step)
        self.writer.add_scalar("batch/accuracy", stats.accuracy, self.step)
        for number, group in enumerate(self.optimizer_groups() if self.optimizer_groups else []):
            self.writer.add_scalar(f"lr/group{number}", group["lr"], self.step)

    def on_epoch_end(self, stats: EpochStats) -> None:
        if stats.partial:
            return
        self.last = stats
        epoch = stats.epoch + 1
        self.writer.add_scalar("epoch/train_loss", stats.train_loss, epoch)
        self.writer.add_scalar("epoch/train_accuracy", stats.train_accuracy, epoch)
        if stats.val_loss is not None:
            self.writer.add_scalar("epoch/val_loss", stats.val_loss, epoch)
            self.writer.add_scalar("epoch/val_accuracy", stats.val_accuracy, epoch)
        self.writer.add_scalar("epoch/images_per_s", stats.images_per_s, epoch)
        self.writer.flush()

    def on_fit_end(self, result: FitResult) -> None:
        if self.config is not None and self.last is not None:
            hparams = {k: v for k, v in self.config.as_dict().items()
                       if isinstance(v, (int, float, str, bool))}
            best = result.history[result.best_epoch] if result.best_epoch is not None else self.last
            metrics = {"hparam/best_val_accuracy": best.val_accuracy or 0.0,
                       "hparam/final_train_loss": self.last.train_loss}
            self.writer.add_hparams(hparams, metrics, run_name=".")
        self.writer.close()
