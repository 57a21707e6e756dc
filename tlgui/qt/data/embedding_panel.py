"""The Map dock: every image of the open data set as a point, where the frozen body's
features place it (PCA, or UMAP / t-SNE when installed), coloured by class, split, or
whether the model gets it right. Hover shows the image, a click opens it, a lasso (Shift +
drag, or the Lasso button) picks a group to show in the Dataset dock."""

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.cleaning.embedding import (
    METHODS,
    EmbeddingMap,
    available_methods,
    embedding_map,
    inside,
)
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import Experiment
from tlgui.core.state import AppState
from tlgui.qt.cleaning.clean_panel import frozen_job
from tlgui.qt.data.augment_preview import ImageDialog
from tlgui.qt.data.thumbnails import ThumbnailLoader
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.lasso import LassoViewBox
from tlgui.qt.widgets.layout import EmptyState, across

COLOUR_BY = ("class", "split", "correct or wrong")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
PREVIEW = 160
HOVER_PIXELS = 8  # how near the pointer a point must be to count as hovered
NO_MAP = ("No map yet. Open a data folder and a model, then Compute map: each image becomes "
          "a point placed by the model's features.")


class _Relay(QObject):
    stepped = Signal(int, int)


class EmbeddingPanel(QWidget):
    """``source()`` gives the open experiment (or raises TlguiError); ``selected(paths)``
    fires when a lasso is sent to the Dataset dock."""

    computed = Signal(object)  # EmbeddingMap
    selected = Signal(list)

    def __init__(self, state: AppState, source: Callable[[], Experiment],
                 thumbnail_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.source = state, source
        self.map: EmbeddingMap | None = None
        self.chosen: np.ndarray = np.zeros(0, dtype=int)
        self.hovered = -1
        self.call: BackgroundCall | None = None
        self._stop = threading.Event()
        self._relay = _Relay(self)
        self._relay.stepped.connect(self._stepped)
        self.loader = ThumbnailLoader(cache_dir=thumbnail_dir, parent=self, size=PREVIEW)
        self.loader.ready.connect(self._thumbnail_ready)
        self.compute_button = QPushButton("Compute map")
        self.compute_button.clicked.connect(self.compute)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self._stop.set)
        self.method = QComboBox()
        for method in available_methods():
            self.method.addItem(METHODS[method][0], method)
        self.method.setToolTip("PCA always; UMAP and t-SNE when installed (pip install "
                               "'tlgui[map]')")
        self.colour = QComboBox()
        self.colour.addItems(list(COLOUR_BY))
        self.colour.currentIndexChanged.connect(self._draw)
        self.lasso_button = QPushButton("Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("draw around points to pick them (or hold Shift and drag)")
        self.show_button = QPushButton("Show in Dataset")
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self.send_selection)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        for widget in (self.compute_button, self.stop_button, QLabel("Method"), self.method,
                       QLabel("Colour by"), self.colour, self.lasso_button, self.show_button):
            top.addWidget(widget)
        top.addWidget(self.progress, stretch=1)
        self.view = LassoViewBox()
        self.lasso_button.toggled.connect(lambda on: setattr(self.view, "lasso", on))
        self.view.lassoed.connect(self._lassoed)
        self.plot = pg.PlotWidget(viewBox=self.view)
        self.plot.setBackground("w")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.highlight = pg.ScatterPlotItem(size=11, pen=pg.mkPen("k", width=1.5), brush=None)
        self.highlight.setZValue(5)
        self.ring = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#111", width=2), brush=None)
        self.ring.setZValue(6)
        self.preview = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW + 20, PREVIEW + 4)
        self.preview_text = QLabel("hover a point")
        self.preview_text.setWordWrap(True)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.preview)
        side_layout.addWidget(self.preview_text)
        side_layout.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        self.views = EmptyState(across(self.plot, side, stretch=(4, 1)), NO_MAP)
        layout.addWidget(self.views, stretch=1)

    def compute(self) -> BackgroundCall | None:
        """Compute the map of the open data set (as corrected) on a worker thread."""
        if self.call is not None and self.call.running:
            return None
        try:
            experiment, data = frozen_job(self.state, self.source)
        except TlguiError as exc:
            self.status.setText(f"Cannot compute the map: {exc}")
            return None
        method, relay, stop = self.method.currentData(), self._relay, self._stop
        stop.clear()
        self.compute_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setVisible(True)
        self.status.setText(f"Computing the features of {data.root} …")
        self.call = BackgroundCall(lambda: embedding_map(
            experiment, data, method=method, stopped=stop.is_set,
            progress=lambda done, total: relay.stepped.emit(done, total)), self)
        self.call.done.connect(self.show_map)
        self.call.failed.connect(self._failed)
        self.call.start()
        return self.call

    def _stepped(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _finished(self) -> None:
        self.compute_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress.setVisible(False)

    def _failed(self, message: str) -> None:
        self._finished()
        self.status.setText(f"Cannot compute the map: {message}")

    def show_map(self, found: EmbeddingMap) -> None:
        self._finished()
        self.map, self.chosen, self.hovered = found, np.zeros(0, dtype=int), -1
        right = int(found.correct.sum())
        self.status.setText(
            f"{len(found.paths):,} images, {METHODS[found.method][0]} of the features"
            f"{' (reused)' if found.reused else ''}; the model's head gets {right:,} right "
            f"({right / max(1, len(found.paths)):.1%}). Hover to see an image, click to open "
            "it, Shift+drag to pick a group.")
        self.views.show_content()
        self._draw()
        self.view.autoRange()
        self.computed.emit(found)

    def groups(self) -> list[tuple[str, np.ndarray]]:
        """(legend name, point indexes) per colour, for the chosen colouring."""
        m = self.map
        by = self.colour.currentText()
        if by == "class":
            return [(name, np.flatnonzero(m.labels == i)) for i, name in enumerate(m.classes)]
        if by == "split":
            names = np.array(m.splits)
            return [(s, np.flatnonzero(names == s)) for s in dict.fromkeys(m.splits)]
        return [("right", np.flatnonzero(m.correct)), ("wrong", np.flatnonzero(~m.correct))]

    def _draw(self) -> None:
        """One scatter item per colour with one brush: fast at tens of thousands of points."""
        if self.map is None:
            return
        self.plot.clear()
        self.legend.clear()
        size = 6 if len(self.map.paths) < 5000 else 4
        for i, (name, members) in enumerate(self.groups()):
            colour = {"right": "#2ca02c", "wrong": "#d62728"}.get(name, PALETTE[i % len(PALETTE)])
            item = pg.ScatterPlotItem(self.map.xy[members, 0], self.map.xy[members, 1],
                                      size=size, pen=None, brush=pg.mkBrush(colour),
                                      name=f"{name} ({len(members):,})")
            self.plot.addItem(item)
        self.plot.addItem(self.highlight)
        self.plot.addItem(self.ring)
        self.ring.setData([], [])
        self.hovered = -1  # the ring is gone: hovering the same point draws it again
        self._mark()

    def nearest(self, x: float, y: float) -> int:
        """The point nearest to view coordinates (x, y) within a few pixels, or -1."""
        if self.map is None or not len(self.map.xy):
            return -1
        width, height = self.view.viewPixelSize()
        dx = (self.map.xy[:, 0] - x) / width
        dy = (self.map.xy[:, 1] - y) / height
        distance = dx * dx + dy * dy
        best = int(np.argmin(distance))
        return best if distance[best] <= HOVER_PIXELS ** 2 else -1

    def _hover(self, scene_pos) -> None:
        point = self.view.mapSceneToView(scene_pos)
        found = self.nearest(point.x(), point.y())
        if found != self.hovered and found >= 0:
            self.hovered = found
            self._preview(found)

    def _preview(self, i: int) -> None:
        m = self.map
        self.ring.setData(m.xy[i:i + 1, 0], m.xy[i:i + 1, 1])
        predicted = m.classes[m.predicted[i]] if m.predicted[i] < len(m.classes) else "?"
        self.preview_text.setText(f"{Path(m.paths[i]).name}\n{m.splits[i]} · "
                                  f"{m.classes[m.labels[i]]}\nthe head says {predicted}")
        image = self.loader.get(m.paths[i])
        self.preview.setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())

    def _thumbnail_ready(self, path: str, image: QImage) -> None:
        if self.map is not None and self.hovered >= 0 and self.map.paths[self.hovered] == path:
            self.preview.setPixmap(QPixmap.fromImage(image))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.map is None:
            return
        point = self.view.mapSceneToView(event.scenePos())
        found = self.nearest(point.x(), point.y())
        if found >= 0:
            self.open_image(found)

    def open_image(self, i: int) -> ImageDialog:
        m = self.map
        dialog = ImageDialog(m.paths[i], f"{m.classes[m.labels[i]]} ({m.splits[i]})", self)
        dialog.open()
        return dialog

    def _lassoed(self, polygon: np.ndarray) -> None:
        if self.map is None:
            return
        self.chosen = np.flatnonzero(inside(self.map.xy, polygon))
        self._mark()

    def _mark(self) -> None:
        chosen = self.chosen
        self.highlight.setData(self.map.xy[chosen, 0], self.map.xy[chosen, 1])
        self.show_button.setEnabled(bool(len(chosen)))
        self.show_button.setText(f"Show {len(chosen):,} in Dataset" if len(chosen)
                                 else "Show in Dataset")

    def send_selection(self) -> list[str]:
        """Hand the lassoed images to the Dataset dock."""
        paths = [self.map.paths[i] for i in self.chosen]
        if paths:
            self.selected.emit(paths)
        return paths

    def shutdown(self) -> None:
        self._stop.set()
        self.loader.shutdown()
        if self.call is not None:
            self.call.wait()
