"""What a training run announces, its settings, and how to stop it.

Listeners subclass :class:`TrainListener` and override what they need (no-op defaults).
Every event carries plain numbers and strings, never live tensors, so a Qt worker can
forward them across threads.
"""

import threading
import time
from dataclasses import asdict, dataclass, field


@dataclass
class UnfreezeStep:
    """At ``epoch`` (0-based), unfreeze ``what``: "all", or the last ``k`` blocks as an int."""

    epoch: int
    what: str | int = "all"


@dataclass
class TrainConfig:
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adamw"  # sgd | adam | adamw
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # constant | cosine | onecycle
    pretrained_lr_mult: float = 0.1  # pretrained tensors learn this much slower than new ones
    lr_spread: str = "two-groups"  # two-groups | geometric (first trainable block -> head)
    lr_multipliers: dict[str, float] = field(default_factory=dict)  # glob on names -> factor
    unfreeze: list[UnfreezeStep] = field(default_factory=list)
    train_bn: bool = False
    augment: str = "auto"  # auto | none | light | strong
    cache: str = "auto"  # auto | on | off
    cache_dir: str | None = None  # where large feature caches go; memory when None
    device: str = "auto"
    amp: bool = False
    channels_last: bool = False
    workers: int = -1  # DataLoader workers; -1: up to 4 on CUDA, none on the CPU
    seed: int = 0
    deterministic: bool = False  # torch.use_deterministic_algorithms (matters on CUDA)
    image_cache: bool = False  # keep decoded, resized images on disk; augment batches as tensors
    image_cache_dir: str | None = None  # default: ~/.cache/tlgui/decoded
    image_cache_mb: int = 4096
    gpu_decode: bool = False  # fill the image cache with JPEGs decoded on the GPU (CUDA)
    checkpoint_dir: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["unfreeze"] = [UnfreezeStep(**step) for step in data.get("unfreeze", [])]
        return cls(**data)


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

