"""Training on its own QThread. Signals carry plain numbers and strings, never tensors;
batch updates are throttled so the window stays responsive."""

import dataclasses
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataIndex
from tlgui.core.model.recipe import Experiment
from tlgui.core.runs.service import TrainingJob
from tlgui.core.train.train_events import StopToken, TrainListener

BATCH_SIGNAL_INTERVAL_S = 0.1


class _Forwarder(TrainListener):
    """Runs on the training thread; turns engine events into the worker's signals."""

    def __init__(self, worker: "TrainingWorker") -> None:
        self.worker = worker
        self.last_batch_signal = 0.0
        self.losses: list[float] = []  # every batch's loss since the last signal

    def on_fit_start(self, config, epochs, batches_per_epoch) -> None:
        self.worker.fit_started.emit(epochs, batches_per_epoch)

    def on_epoch_start(self, epoch) -> None:
        self.worker.epoch_started.emit(epoch)

    def on_batch_end(self, stats) -> None:
        self.losses.append(stats.loss)
        now = time.monotonic()
        if now - self.last_batch_signal >= BATCH_SIGNAL_INTERVAL_S or \
                stats.batch + 1 == stats.batches:
            self.last_batch_signal = now
            self.worker.batch_ended.emit({**dataclasses.asdict(stats), "losses": self.losses})
            self.losses = []

    def on_validation_end(self, stats) -> None:
        self.worker.validation_ended.emit(dataclasses.asdict(stats))

    def on_epoch_end(self, stats) -> None:
        self.worker.epoch_ended.emit(dataclasses.asdict(stats))
        trainer = self.worker.trainer
        if self.worker.epoch_hook is not None and not stats.partial:
            try:
                self.worker.epoch_hook([dataclasses.asdict(h) for h in trainer.result.history])
            except OSError as exc:
                self.worker.message.emit(f"autosave failed: {exc}")
            else:
                self.worker.message.emit("project autosaved")

    def on_weights(self, epoch, rows) -> None:
        self.worker.weights_diffed.emit(rows)

    def on_message(self, text) -> None:
        self.worker.message.emit(text)

    def on_exception(self, error, message) -> None:
        self.worker.failed.emit(message)


class TrainingWorker(QObject):
    fit_started = Signal(int, int)
    epoch_started = Signal(int)
    batch_ended = Signal(dict)
    validation_ended = Signal(dict)
    epoch_ended = Signal(dict)
    message = Signal(str)
    failed = Signal(str)
    weights_diffed = Signal(list)  # TensorDiff rows as dicts, after every epoch
    finished = Signal(dict)  # {"stopped", "error", "epochs", "integrity_passed", "summary"}

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job
        self.trainer = job.trainer
        self.epoch_hook = None  # runs on the training thread after each epoch (autosave)
        self.trainer.listeners.append(_Forwarder(self))

    @Slot()
    def run(self) -> None:
        result = self.job.run().result
        integrity = self.trainer.integrity
        self.finished.emit({
            "stopped": result.stopped, "error": result.error, "epochs": len(result.history),
            "integrity_passed": integrity.passed if integrity else None,
            "summary": integrity.summary() if integrity else "",
            "skipped": len(result.skipped_files),
            "integrity_rows": [dataclasses.asdict(r) for r in integrity.rows] if integrity else [],
        })


class TrainingRun(QObject):
    """Owns one training thread: ``start()``, ``stop()``, ``wait()``; ``worker`` has the
    signals. The thread ends by itself when training finishes; ``finished`` arrives on the
    GUI thread only after it has ended, so ``is_running()`` is then already False."""

    finished = Signal(dict)

    def __init__(self, experiment: Experiment, data: DataIndex, config: TrainConfig,
                 parent: QObject | None = None, *, out: Path | None = None,
                 resume: Path | None = None) -> None:
        super().__init__(parent)
        self.stop_token = StopToken()
        self.out = out  # the run folder (checked, locked and written by TrainingJob)
        self.worker = TrainingWorker(TrainingJob(experiment, data, config, out=out,
                                                 resume=resume, stop=self.stop_token))
        self.thread = QThread()
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Direct: quit() is thread-safe, and a GUI thread blocked in wait() could not run it.
        self.worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.worker.finished.connect(self._remember, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self._thread_ended)  # queued to this (GUI) thread
        self._info: dict | None = None

    def _remember(self, info: dict) -> None:
        self._info = info

    @Slot()
    def _thread_ended(self) -> None:
        self.thread.wait()  # returns at once: the thread has left its event loop
        self.finished.emit(self._info or {"stopped": True, "error": "the training thread ended "
                                          "without a result", "epochs": 0,
                                          "integrity_passed": None, "summary": "",
                                          "skipped": 0, "integrity_rows": []})

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_token.stop()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, ms: int = 60_000) -> bool:
        return self.thread.wait(ms)
