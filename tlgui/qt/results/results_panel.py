"""The Results dock: a trained model evaluated on a split — confusion matrix heatmap, per-class
precision / recall / F1, and a gallery of the most confident mistakes, each opening its explanation."""

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import TlguiError
from tlgui.core.inference.evaluate import EvalReport, evaluate
from tlgui.core.model.loaded import LoadedModel
from tlgui.qt.results.explain_dialog import ExplainDialog, show_explanation
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import EmptyState, across, stacked

MAX_LABELLED_CELLS = 400  # beyond 20 x 20 classes, numbers in cells would be unreadable
THUMB = 112

# (the model with class names, a function giving the data to evaluate, run off the GUI thread)
Source = Callable[[], tuple[LoadedModel, Callable[[], DataIndex]]]


class NumberItem(QTableWidgetItem):
    """Sorts by value, not by text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return float(self.data(Qt.ItemDataRole.UserRole)) < float(other.data(Qt.ItemDataRole.UserRole))


def _number(value: float, text: str) -> NumberItem:
    item = NumberItem(text)
    item.setData(Qt.ItemDataRole.UserRole, value)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def thumbnail(path: str, side: int = THUMB) -> QPixmap:
    """A small picture of ``path``, decoded at reduced size (fast for JPEGs)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio))
    return QPixmap.fromImage(reader.read())


NO_REPORT = ("Nothing evaluated yet. Train (Run › Start training, Ctrl+Return): the run's "
             "validation split is evaluated here when it ends. Or open a model and Evaluate "
             "(Ctrl+Shift+E).")


class ResultsPanel(QWidget):
    evaluated = Signal(object)  # EvalReport
    message = Signal(str)

    def __init__(self, source: Source | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.report: EvalReport | None = None
        self._call: BackgroundCall | None = None
        self.split = QComboBox()
        self.split.addItems(["val", "test", "train"])
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("run the current model over the chosen split "
                                        "(Run › Evaluate, Ctrl+Shift+E)")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.normalised = QCheckBox("row-normalised")
        self.normalised.toggled.connect(self._draw_matrix)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        for widget in (QLabel("Split"), self.split, self.evaluate_button, self.normalised):
            top.addWidget(widget)
        top.addWidget(self.status, stretch=1)

        self.matrix_plot = pg.PlotWidget(title="Confusion matrix (scroll to zoom)")
        self.matrix_plot.setBackground("w")
        self.matrix_plot.invertY(True)
        self.matrix_plot.setAspectLocked(True)
        self.matrix_plot.setLabel("bottom", "predicted")
        self.matrix_plot.setLabel("left", "true")
        self.matrix_plot.setMinimumHeight(150)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.matrix_plot.addItem(self.image)
        self._labels: list[pg.TextItem] = []
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["class", "precision", "recall", "F1", "support"])
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 40, THUMB + 44))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setWordWrap(True)
        self.gallery.itemActivated.connect(self._open_image)
        self.gallery.itemClicked.connect(self._open_image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        self.views = EmptyState(across(self.matrix_plot, stacked(self.table, self.gallery),
                                       stretch=(1, 1)), NO_REPORT)
        layout.addWidget(self.views, stretch=1)

    def evaluate(self) -> BackgroundCall | None:
        """Evaluate on a worker thread; the views fill when it is done."""
        if self.source is None or (self._call is not None and self._call.running):
            return None
        try:
            loaded, data = self.source()
        except TlguiError as exc:
            self.status.setText(str(exc))
            return None
        split = self.split.currentText()
        self.status.setText(f"Evaluating on {split} …")
        self.evaluate_button.setEnabled(False)
        self._call = BackgroundCall(lambda: evaluate(loaded, data(), split), self)
        self._call.done.connect(self.show_report)
        self._call.failed.connect(self._failed)
        self._call.start()
        return self._call

    def _failed(self, message: str) -> None:
        self.evaluate_button.setEnabled(True)
        self.status.setText(f"Cannot evaluate: {message}")
        self.message.emit(f"cannot evaluate: {message}")

    def show_report(self, report: EvalReport) -> None:
        self.report = report
        self.evaluate_button.setEnabled(True)
        self.status.setText(f"{report.images} {report.split} images · top-1 {report.top1:.3f} · "
                            f"top-{report.k} {report.topk:.3f}"
                            + (f" · {len(report.skipped)} skipped" if report.skipped else ""))
        self.views.show_content()
        self._draw_matrix()
        self._fill_table(report)
        self._fill_gallery(report)
        self.message.emit(self.status.text())
        self.evaluated.emit(report)

    def _draw_matrix(self, *_args) -> None:
        report = self.report
        if report is None:
            return
        values = np.array(report.normalised() if self.normalised.isChecked() else report.confusion,
                          dtype=float)
        n = len(report.classes)
        self.image.setImage(values.T, levels=(0, max(values.max(), 1e-9)))
        self.image.setRect(0, 0, n, n)
        ticks = [[(i + 0.5, name) for i, name in enumerate(report.classes)]]
        for side in ("bottom", "left"):
            self.matrix_plot.getAxis(side).setTicks(ticks)
        for label in self._labels:
            self.matrix_plot.removeItem(label)
        self._labels = []
        if n * n <= MAX_LABELLED_CELLS:
            high = values.max() or 1
            for row in range(n):
                for col in range(n):
                    value = values[row, col]
                    text = f"{value:.0%}" if self.normalised.isChecked() else f"{int(value)}"
                    label = pg.TextItem(text, anchor=(0.5, 0.5),
                                        color="k" if value > 0.6 * high else "w")
                    label.setPos(col + 0.5, row + 0.5)
                    self.matrix_plot.addItem(label)
                    self._labels.append(label)
        self.matrix_plot.autoRange()

    def _fill_table(self, report: EvalReport) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(report.classes))
        for row, name in enumerate(report.classes):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            for col, value in enumerate((report.precision[row], report.recall[row],
                                         report.f1[row]), start=1):
                self.table.setItem(row, col, _number(value, f"{value:.3f}"))
            self.table.setItem(row, 4, _number(report.support[row], str(report.support[row])))
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # the model's class order until a header is clicked
        self.table.resizeColumnsToContents()

    def _fill_gallery(self, report: EvalReport) -> None:
        self.gallery.clear()
        for mistake in report.mistakes:
            item = QListWidgetItem(QIcon(thumbnail(mistake.path)),
                                   f"{mistake.true} → {mistake.predicted}\n"
                                   f"{mistake.probability:.0%}")
            item.setToolTip(mistake.path)
            item.setData(Qt.ItemDataRole.UserRole, mistake.path)
            self.gallery.addItem(item)

    def _open_image(self, item: QListWidgetItem) -> ExplainDialog:
        """The mistake with the model's heatmap: where it looked for what it said."""
        return show_explanation(self, lambda: self.source()[0],
                                item.data(Qt.ItemDataRole.UserRole),
                                item.text().replace("\n", " · "))
