"""The text progress of ``tlgui train`` and ``tlgui find-lr``."""

import sys
import time

from tlgui.core.train.train_events import BatchStats, EpochStats, TrainListener


def bar(fraction: float) -> str:
    return f"[{'#' * int(fraction * 20):<20}]"


def show_progress(done: int, total: int, what: str, stream=None) -> None:
    """One updating line on a terminal (nothing when the output is a file)."""
    stream = stream or sys.stderr
    if stream.isatty():
        stream.write(f"\r{what} {bar(done / max(total, 1))} {done}/{total}   "
                     + ("\n" if done >= total else ""))
        stream.flush()


class TextProgress(TrainListener):
    """One updating line per epoch on stderr, and messages as they come."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.epochs = 0
        self.batch_start = time.perf_counter()

    def on_fit_start(self, config, epochs, batches_per_epoch) -> None:
        self.epochs = epochs

    def on_batch_end(self, stats: BatchStats) -> None:
        if not self.stream.isatty():
            return
        done = (stats.batch + 1) / max(stats.batches, 1)
        left = (stats.batches - stats.batch - 1) * (time.perf_counter() - self.batch_start) \
            / (stats.batch + 1)
        self.stream.write(f"\repoch {stats.epoch + 1}/{self.epochs} {bar(done)} "
                          f"{stats.batch + 1}/{stats.batches} loss {stats.loss:.4f} "
                          f"{stats.images_per_s:,.0f} img/s, {left:.0f}s left   ")
        self.stream.flush()

    def on_epoch_start(self, epoch: int) -> None:
        self.batch_start = time.perf_counter()

    def on_epoch_end(self, stats: EpochStats) -> None:
        val = (f" val loss {stats.val_loss:.4f} acc {stats.val_accuracy:.3f}"
               if stats.val_accuracy is not None else "")
        self.stream.write(f"\repoch {stats.epoch + 1}/{self.epochs} train loss "
                          f"{stats.train_loss:.4f} acc {stats.train_accuracy:.3f}{val} "
                          f"{stats.seconds:.1f}s{' (cached)' if stats.cached else ''}\n")

    def on_message(self, text: str) -> None:
        self.stream.write(f"\r{text}\n")
