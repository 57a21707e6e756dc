"""What a training run announces, and how to stop it.

Listeners subclass :class:`TrainListener` and override what they need (no-op defaults).
Every event carries plain numbers and strings, never live tensors, so a Qt worker can
forward them across threads.
"""

import threading
import time
from dataclasses import dataclass, field, fields

from tlgui.core.config import TrainConfig


@dataclass
class BatchStats:
    epoch: int
    batch: int
    batches: int
    loss: float
    accuracy: float
    images_per_s: float


class RunningTotals:
    """An epoch's loss and accuracy summed over its finished steps."""

    def __init__(self, epoch: int, batches: int) -> None:
        self.epoch, self.batches = epoch, batches
        self.seen = self.correct = 0
        self.loss_sum = 0.0
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def add(self, number: int, loss: float, hits: int, count: int) -> BatchStats:
        self.seen, self.correct = self.seen + count, self.correct + hits
        self.loss_sum += loss * count
        return BatchStats(self.epoch, number, self.batches, loss, hits / count,
                          self.seen / max(self.seconds(), 1e-9))


@dataclass
class ValidationStats:
    epoch: int
    loss: float
    accuracy: float
    per_class_accuracy: list[float]
    confusion: list[list[int]]


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    images_per_s: float
    cached: bool
    lr: float
    partial: bool = False  # stopped before the epoch's end: not in the history


@dataclass
class FitResult:
    history: list[EpochStats]
    stopped: bool = False
    error: str | None = None
    skipped_files: dict[str, str] = field(default_factory=dict)
    best_epoch: int | None = None


def _names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


# The one schema of what a run announces: every line of events.jsonl is {"event", "time"}
# plus exactly these fields, and the app draws a live run and a followed one from them.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "fit_start": ("config", "epochs", "batches_per_epoch"),
    "batch_end": _names(BatchStats),
    "epoch_end": _names(EpochStats),
    "checkpoint": ("epoch", "path", "best"),
    "unfreeze": ("epoch", "what"),
    "integrity": ("passed", "alarms", "original_changed", "changed", "tensors"),
    "message": ("text",),
    "error": ("message",),
    "fit_end": ("stopped", "error", "epochs", "best_epoch"),
}


class TrainListener:
    """Override any of these; before/after pairs stay paired even when stopped."""

    def on_fit_start(self, config: TrainConfig, epochs: int, batches_per_epoch: int) -> None: ...

    def on_epoch_start(self, epoch: int) -> None: ...

    def on_batch_end(self, stats: BatchStats) -> None: ...

    def on_validation_end(self, stats: ValidationStats) -> None: ...

    def on_epoch_end(self, stats: EpochStats) -> None: ...

    def on_message(self, text: str) -> None: ...

    def on_checkpoint(self, epoch: int, path: str, best: bool) -> None: ...

    def on_unfreeze(self, epoch: int, what: str) -> None: ...

    def on_weights(self, epoch: int, rows: list[dict]) -> None:
        """After each full epoch, every tensor's change so far (TensorDiff fields), judged
        as the final integrity verdict judges it. Computed only when a listener overrides
        this."""

    def on_integrity(self, report: dict) -> None: ...

    def on_exception(self, error: BaseException, message: str) -> None: ...

    def on_fit_end(self, result: FitResult) -> None: ...


class StopToken:
    """Set from any thread; the engine checks it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def stop(self) -> None:
        self._event.set()

    def reset(self) -> None:
        self._event.clear()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

