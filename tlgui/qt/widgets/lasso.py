"""A pyqtgraph view box that pans and zooms as usual, and draws a lasso when its ``lasso``
flag is on (or Shift is held): ``lassoed(polygon)`` gives the loop in data coordinates."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal


class LassoViewBox(pg.ViewBox):
    lassoed = Signal(object)  # an M x 2 array of data coordinates

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lasso = False
        self._points: list[tuple[float, float]] = []
        self.outline = pg.PlotCurveItem(pen=pg.mkPen("#d62728", width=2))
        self.outline.setZValue(10)
        self.addItem(self.outline, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:
        drawing = self.lasso or bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if not drawing or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isStart():
            self._points = []
        point = self.mapSceneToView(ev.scenePos())
        self._points.append((point.x(), point.y()))
        loop = np.array(self._points + self._points[:1])
        self.outline.setData(loop[:, 0], loop[:, 1])
        if ev.isFinish():
            if len(self._points) >= 3:
                self.lassoed.emit(np.array(self._points))
            self._points = []

    def clear_lasso(self) -> None:
        self.outline.setData([], [])
