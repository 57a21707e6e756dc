"""The learning-rate finder's window: the range test runs on a worker thread with progress
and a Stop; its loss-against-rate plot (log axis) marks the suggestion, and a click on the
plot, or "Use suggested", sets the training form's rate: one undo step each."""

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.train.lr_finder import LrSweep
from tlgui.core.train.train_events import StopToken
from tlgui.qt.widgets.background import BackgroundCall


class _Relay(QObject):
    """Progress and messages from the worker thread, delivered on the GUI thread."""

    stepped = Signal(int, int)
    said = Signal(str)


class _SetRate(QUndoCommand):
    def __init__(self, box: QDoubleSpinBox, rate: float) -> None:
        super().__init__(f"learning rate {box.value():.2e} → {rate:.2e}")
        self.box, self.before, self.after = box, box.value(), rate

    def redo(self) -> None:
        self.box.setValue(self.after)

    def undo(self) -> None:
        self.box.setValue(self.before)


class LrFinderDialog(QDialog):
    """``run(stop, progress, say)`` returns the LrSweep; it runs once, on its own thread."""

    def __init__(self, rate_box: QDoubleSpinBox,
                 run: Callable[[StopToken, Callable, Callable], LrSweep],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find learning rate")
        self.rate_box = rate_box
        self.sweep: LrSweep | None = None
        self.undo_stack = QUndoStack(self)
        self.stop_token = StopToken()
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.setLogMode(x=True, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("bottom", "learning rate (click to use one)")
        self.plot.setLabel("left", "smoothed loss")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.setMinimumSize(420, 260)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d62728", width=2,
                                                             style=Qt.PenStyle.DashLine),
                                      label="suggested", labelOpts={"position": 0.9,
                                                                    "color": "#d62728"})
        self.chosen = pg.InfiniteLine(angle=90, pen=pg.mkPen("#2ca02c", width=2),
                                      label="training rate", labelOpts={"position": 0.1,
                                                                        "color": "#2ca02c"})
        for line in (self.marker, self.chosen):
            line.setVisible(False)
            self.plot.addItem(line)
        rate_box.valueChanged.connect(self._show_rate)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.progress = QProgressBar()
        self.status = QLabel("Running the range test…")
        self.status.setWordWrap(True)
        self.use_button = QPushButton("Use suggested rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(lambda: self.set_rate(self.sweep.suggested_lr))
        self.undo_button = QPushButton("Undo rate change")
        self.undo_button.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_token.stop)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.use_button, self.undo_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.relay = _Relay(self)
        self.relay.stepped.connect(self._stepped)
        self.messages: list[str] = []
        self.relay.said.connect(self.messages.append)
        self.call = BackgroundCall(lambda: run(self.stop_token, self.relay.stepped.emit,
                                               self.relay.said.emit), self)
        self.call.done.connect(self.show_sweep)
        self.call.failed.connect(self._failed)

    def start(self) -> None:
        self.call.start()

    @property
    def running(self) -> bool:
        return self.call.running

    def _stepped(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def show_sweep(self, sweep: LrSweep) -> None:
        self.sweep = sweep
        self.stop_button.setEnabled(False)
        self.progress.setValue(self.progress.maximum())
        self.curve.setData(sweep.lrs, sweep.losses)
        self._show_rate(self.rate_box.value())
        if sweep.suggested_lr:
            self.marker.setValue(math.log10(sweep.suggested_lr))
            self.marker.setVisible(True)
            self.use_button.setEnabled(True)
        self.status.setText(f"{sweep.describe()}. Dashed red: the suggestion; green: the "
                            "training rate.")

    def _failed(self, message: str) -> None:
        self.stop_button.setEnabled(False)
        self.status.setText(f"The range test stopped: {message}")

    def _clicked(self, event) -> None:
        if self.sweep is None or event.button() != Qt.MouseButton.LeftButton:
            return
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return
        self.set_rate(10 ** box.mapSceneToView(event.scenePos()).x())

    def set_rate(self, rate: float) -> None:
        """The form's rate becomes ``rate`` (kept inside the form's range): one undo step."""
        rate = min(max(rate, self.rate_box.minimum()), self.rate_box.maximum())
        self.undo_stack.push(_SetRate(self.rate_box, float(f"{rate:.3g}")))

    def _show_rate(self, rate: float) -> None:
        self.chosen.setValue(math.log10(rate))
        self.chosen.setVisible(self.sweep is not None)

    def closeEvent(self, event) -> None:
        self.stop_token.stop()  # the trial ends at its next step; the model is restored
        super().closeEvent(event)
