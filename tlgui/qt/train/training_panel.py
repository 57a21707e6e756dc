"""The training panel: settings, Start/Stop, progress with time left, live plots, a log."""

import math
import time
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import TlguiError
from tlgui.core.files import cache_home
from tlgui.core.model.recipe import Experiment
from tlgui.core.state import AppState
from tlgui.core.train.lr_finder import find_lr
from tlgui.core.validate import check_data
from tlgui.qt.train.lr_finder_dialog import LrFinderDialog
from tlgui.qt.train.training_form import TrainingForm
from tlgui.qt.train.training_worker import TrainingRun
from tlgui.qt.widgets.layout import EmptyState, across, stacked

# Given the data's class names, the main window returns the experiment to train (its head
# fitted to those classes).
ModelProvider = Callable[[list[str]], Experiment]


class WholeNumberAxis(pg.AxisItem):
    """Ticks at whole numbers only: there is no epoch 1.5."""

    def tickValues(self, minVal, maxVal, size):
        levels = [(spacing, [v for v in values if float(v).is_integer()])
                  for spacing, values in super().tickValues(minVal, maxVal, size)
                  if spacing >= 1]
        return levels or [(1.0, [float(v) for v in range(math.ceil(minVal),
                                                          math.floor(maxVal) + 1)])]


def _plot(title: str, y_label: str, x_label: str = "epoch",
          legend_offset: tuple[int, int] = (-10, 10)) -> pg.PlotWidget:
    """``legend_offset``: negative x from the right, negative y from the bottom; put the
    legend where the curves usually are not (top right for falling losses)."""
    widget = pg.PlotWidget(title=title, axisItems={"bottom": WholeNumberAxis("bottom")})
    widget.setLabel("bottom", x_label)
    widget.setBackground("w")
    widget.showGrid(x=True, y=True, alpha=0.3)
    widget.setLabel("left", y_label)
    widget.getAxis("left").enableAutoSIPrefix(False)
    widget.addLegend(offset=legend_offset)
    widget.setMinimumHeight(150)
    return widget


def _new_run_folder() -> Path:
    """A fresh folder for one app run: its checkpoints (for Resume), events and record."""
    base = cache_home() / "app-runs"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, number = base / stamp, 1
    while folder.exists():
        number += 1
        folder = base / f"{stamp}-{number}"
    return folder


class TrainingPanel(QWidget):
    run_started = Signal()
    run_finished = Signal(dict)
    model_busy = Signal(bool)  # a run or the range test uses the model: it must not change
    message_logged = Signal(str)  # every line of this panel's log, for the Log panel

    def __init__(self, provider: ModelProvider | None = None, parent: QWidget | None = None,
                 state: AppState | None = None):
        super().__init__(parent)
        self.provider = provider
        self.run: TrainingRun | None = None
        self.state = state or AppState()
        self.form = TrainingForm()
        self.form.find_lr_requested.connect(self.find_lr)
        self.finder: LrFinderDialog | None = None
        self.last_info: dict | None = None  # how the last run ended
        self.start_button = QPushButton("Start training")  # shortcuts: the Run menu's
        self.start_button.setToolTip("Run › Start training (Ctrl+Return)")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Run › Stop (Ctrl+.)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("continue the stopped run from its last complete epoch "
                                      "(Run › Resume, Ctrl+Shift+Return)")
        self.resume_button.setEnabled(False)
        self.resume_button.clicked.connect(self.resume)
        self.model_busy.connect(lambda _busy: self.resume_button.setEnabled(self.can_resume()))
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.bad_label = QLabel("")
        self.bad_label.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(button)
        settings = QScrollArea()  # the settings scroll when the dock is short; actions don't
        settings.setWidget(self.form)
        settings.setWidgetResizable(True)
        settings.setFrameShape(QScrollArea.Shape.NoFrame)
        settings.setMinimumWidth(self.form.sizeHint().width() + 20)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(settings, 1)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addWidget(self.bad_label)
        left_widget = QWidget()
        left_widget.setLayout(left)

        self.loss_plot = _plot("Loss per epoch", "loss")
        self.acc_plot = _plot("Accuracy per epoch", "accuracy", legend_offset=(-10, -10))
        self.batch_plot = _plot("Loss per batch", "loss", "batch")
        pens = {"train": pg.mkPen("#1f77b4", width=2), "val": pg.mkPen("#d62728", width=2)}
        self.curves = {
            "train_loss": self.loss_plot.plot([], [], pen=pens["train"], symbol="o", name="train"),
            "val_loss": self.loss_plot.plot([], [], pen=pens["val"], symbol="o", name="val"),
            "train_acc": self.acc_plot.plot([], [], pen=pens["train"], symbol="o", name="train"),
            "val_acc": self.acc_plot.plot([], [], pen=pens["val"], symbol="o", name="val"),
            "batch_loss": self.batch_plot.plot([], [], pen=pg.mkPen("#555", width=1),
                                               name="batch"),
        }
        self.series: dict[str, list[float]] = {k: [] for k in self.curves}
        self.history: list[dict] = []  # completed epochs of the latest run
        self.classes: list[str] = []  # the class names of the latest run's data
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(5000)
        self.plots = EmptyState(stacked(across(self.loss_plot, self.acc_plot), self.batch_plot),
                                "No run yet. Choose the data folder and press Start training "
                                "(Ctrl+Return): loss and accuracy appear here as it trains.")
        splitter = across(stacked(left_widget, self.log, stretch=(3, 1)), self.plots,
                          stretch=(0, 1))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._fit_start = 0.0
        self._epochs = self._batches = 0

    def set_bad_files(self, bad: dict[str, str]) -> None:
        """Show how many files training will skip (the Dataset panel lists them)."""
        self.bad_label.setText(f"{len(bad)} bad files will be skipped (Dataset › Bad files)"
                               if bad else "")

    def say(self, text: str) -> None:
        self.log.appendPlainText(text)
        self.message_logged.emit(text)

    def _folder(self) -> str:
        folder = self.form.data_folder()
        if not folder:
            raise TlguiError("choose a data folder first")
        return folder

    def load_data(self) -> DataIndex:
        """The open data folder's index, split with the form's seed (no second scan)."""
        return self.state.data_for(self._folder(), seed=self.form.seed.value())

    def evaluation_data(self) -> DataIndex:
        """What Results evaluates: the split the last run trained on (see AppState)."""
        return self.state.evaluation_data(self._folder(), seed=self.form.seed.value())

    def _prepared(self) -> tuple[TrainConfig, DataIndex, Experiment] | None:
        """The form's settings, the data and the model, or None with the reason shown (or
        when the model is busy)."""
        if self.is_busy() or self.provider is None:
            return None
        try:
            config = self.form.config()
            data = self.load_data()
            check_data(data)
            experiment = self.provider(data.classes)
        except TlguiError as exc:
            return self._refused(exc)
        self.form.mark_invalid("", "")
        return config, data, experiment

    def _refused(self, exc: TlguiError) -> None:
        self.form.mark_invalid(getattr(exc, "field", ""), str(exc))
        self.status.setText(f"Cannot start: {exc}")
        self.say(f"cannot start: {exc}")

    def find_lr(self) -> None:
        """The range test with the form's settings, in its own window; the model is busy
        (and restored) while it runs."""
        prepared = self._prepared()
        if prepared is None:
            return
        config, data, exp = prepared

        def run(stop, progress, say):
            return find_lr(exp.model, data, exp.loaded.transform, config, stop=stop,
                           progress=progress, say=say)

        self.finder = LrFinderDialog(self.form.lr, run, self)
        self.finder.call.done.connect(self._finder_ended)
        self.finder.call.failed.connect(self._finder_ended)
        self.start_button.setEnabled(False)
        self.form.find_lr_button.setEnabled(False)
        self.finder.show()
        self.finder.start()
        self.model_busy.emit(True)

    def _finder_ended(self, *_result) -> None:
        for text in self.finder.messages:
            self.say(text)
        self.start_button.setEnabled(True)
        self.form.find_lr_button.setEnabled(True)
        self.model_busy.emit(False)

    def is_busy(self) -> bool:
        return self.is_running() or (self.finder is not None and self.finder.running)

    def start(self) -> None:
        """A new run, into a new run folder under tlgui's cache folder."""
        self._begin(resume=False)

    def resume(self) -> None:
        """Continue the last run, which was stopped, from its last complete epoch (the form's
        settings must match the run's, apart from the number of epochs)."""
        if self.can_resume():
            self._begin(resume=True)

    def can_resume(self) -> bool:
        return (self.run is not None and not self.is_running() and self.last_info is not None
                and self.last_info["stopped"] and self.run.out is not None
                and (self.run.out / "checkpoints" / "last.pt").is_file())

    def _begin(self, resume: bool) -> None:
        prepared = self._prepared()
        if prepared is None:
            return
        config, data, experiment = prepared
        folder = self.run.out if resume else _new_run_folder()
        try:
            run = TrainingRun(experiment, data, config, parent=self, out=folder,
                              resume=folder if resume else None)
        except TlguiError as exc:
            self._refused(exc)
            return
        self.run, self.last_info = run, None
        for warning in data.warnings:
            self.say(f"warning: {warning}")
        if not resume:
            for key in self.series:
                self.series[key].clear()
            self.history = []
        self._redraw()
        worker = self.run.worker
        worker.fit_started.connect(self._on_fit_started)
        worker.batch_ended.connect(self._on_batch)
        worker.epoch_ended.connect(self._on_epoch)
        worker.message.connect(self.say)
        worker.failed.connect(lambda text: self.say(f"error: {text}"))
        self.run.finished.connect(self._on_finished)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.form.setEnabled(False)
        self.status.setText("Starting…")
        self.classes = list(data.classes)
        self.state.start_run(data)
        self.say(f"{'resuming' if resume else 'training'} on {data.root}: "
                 f"{len(data.classes)} classes, "
                 + ", ".join(f"{s} {len(f)}" for s, f in data.splits.items())
                 + f"; run folder {folder}")
        self.run_started.emit()  # before the thread starts: a run that fails at once still pairs
        self.run.start()
        self.model_busy.emit(True)

    def stop(self) -> None:
        if self.run is not None and self.is_running():
            self.run.stop()
            self.status.setText("Stopping after this batch…")

    def is_running(self) -> bool:
        return self.run is not None and self.run.is_running()

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop a run and wait for its thread (used when the window closes)."""
        if self.run is None:
            return True
        self.run.stop()
        return self.run.wait(timeout_ms)

    def _on_fit_started(self, epochs: int, batches: int) -> None:
        self.plots.show_content()
        self._fit_start = time.monotonic()
        self._epochs, self._batches = epochs, batches
        self.progress.setRange(0, max(epochs * batches, 1))
        self.progress.setValue(0)

    def _on_batch(self, stats: dict) -> None:
        done = stats["epoch"] * self._batches + stats["batch"] + 1
        self.progress.setValue(done)
        elapsed = time.monotonic() - self._fit_start
        total = self._epochs * self._batches
        left = elapsed / done * (total - done) if done else 0.0
        self.status.setText(f"epoch {stats['epoch'] + 1}/{self._epochs} · batch "
                            f"{stats['batch'] + 1}/{stats['batches']} · loss {stats['loss']:.4f}"
                            f" · {stats['images_per_s']:,.0f} img/s · {left:,.0f} s left")
        self.series["batch_loss"].extend(stats["losses"])
        self.curves["batch_loss"].setData(self.series["batch_loss"])

    def show_history(self, history: list[dict]) -> None:
        """Plot a saved run's epochs (when a project opens)."""
        for key in self.series:
            self.series[key].clear()
        self.history = []
        for stats in history:
            self._add_epoch(stats)
        self._redraw()

    def _add_epoch(self, stats: dict) -> None:
        self.history.append(dict(stats))
        self.series["train_loss"].append(stats["train_loss"])
        self.series["train_acc"].append(stats["train_accuracy"])
        if stats["val_loss"] is not None:
            self.series["val_loss"].append(stats["val_loss"])
            self.series["val_acc"].append(stats["val_accuracy"])

    def _on_epoch(self, stats: dict) -> None:
        if stats["partial"]:
            return
        self._add_epoch(stats)
        self._redraw()
        val = (f", val loss {stats['val_loss']:.4f} acc {stats['val_accuracy']:.3f}"
               if stats["val_loss"] is not None else "")
        self.say(f"epoch {stats['epoch'] + 1}: train loss {stats['train_loss']:.4f} acc "
                 f"{stats['train_accuracy']:.3f}{val} ({stats['seconds']:.1f} s"
                 f"{', cached features' if stats['cached'] else ''})")

    def _redraw(self) -> None:
        if self.history or self.series["batch_loss"] or self.is_running():
            self.plots.show_content()
        for key, curve in self.curves.items():
            values = self.series[key]
            x = list(range(1, len(values) + 1))
            curve.setData(x, values)

    def _on_finished(self, info: dict) -> None:
        self.last_info = info
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.form.setEnabled(True)
        if info["error"]:
            self.status.setText(f"Failed: {info['error']}")
        elif info["stopped"]:
            self.status.setText(f"Stopped after {info['epochs']} complete epochs")
        else:
            self.progress.setValue(self.progress.maximum())
            verdict = "integrity PASS" if info["integrity_passed"] else "integrity FAIL"
            self.status.setText(f"Finished {info['epochs']} epochs · {verdict}")
        self.model_busy.emit(False)
        self.run_finished.emit(info)

    def follow_event(self, event: dict) -> None:
        """Show one event of a run another process writes (``events.jsonl``)."""
        kind = event["event"]
        if kind == "fit_start":
            for key in self.series:
                self.series[key].clear()
            self.history = []
            self._redraw()
            self._on_fit_started(event["epochs"], event["batches_per_epoch"])
            try:  # the followed run's own settings, for reading alongside its plots
                self.set_config(TrainConfig.from_dict(event["config"]))
            except (KeyError, TypeError, ValueError):
                pass
        elif kind == "batch_end" and self._batches:
            self._on_batch({**event, "losses": [event["loss"]]})
        elif kind == "epoch_end":
            self._on_epoch(event)
        elif kind == "message":
            self.say(event["text"])
        elif kind == "error":
            self.say(f"error: {event['message']}")
        elif kind == "integrity":
            self.say("integrity " + ("PASS" if event["passed"] else "FAIL") + f" ({event['tensors']}"
                     " tensors)")
        elif kind == "fit_end":
            state = ("Failed: " + event["error"] if event["error"] else
                     "Stopped" if event["stopped"] else "Finished")
            self.status.setText(f"{state} after {event['epochs']} epochs (followed run)")

    def set_config(self, config) -> None:
        """Show a saved run's settings in the form."""
        self.form.set_config(config)
