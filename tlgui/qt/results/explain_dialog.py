"""Why the model said it: an image with its Grad-CAM heatmap laid over it, for the predicted
class or any other, at the automatic layer or a chosen one; computed on a worker thread."""

from collections.abc import Callable

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
)

from tlgui.core.data.image_check import open_rgb
from tlgui.core.errors import TlguiError, user_message
from tlgui.core.inference.explain import METHODS, Explainer, Explanation
from tlgui.core.inference.heatmaps import overlay
from tlgui.core.model.loaded import LoadedModel
from tlgui.qt.widgets.background import BackgroundCall

SHOWN = 640  # the longest side the image is shown at
PREDICTED = "the predicted class"
AUTOMATIC = "automatic (last feature map)"


def to_pixmap(image: Image.Image) -> QPixmap:
    pixels = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    height, width, _ = pixels.shape
    qimage = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy())


class ExplainDialog(QDialog):
    """Opens at once, with the image; the heatmap arrives when the worker is done."""

    def __init__(self, model: Callable[[], LoadedModel], path: str, title: str = "",
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Explain: {path}")
        self.path, self.model = path, model
        self.explainer: Explainer | None = None
        self.explanation: Explanation | None = None
        self._call: BackgroundCall | None = None
        self._again = False  # a choice changed while the worker was busy
        self.view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.view.setMinimumSize(320, 240)
        self.status = QLabel(title)
        self.status.setWordWrap(True)
        self.target = QComboBox()
        self.layer = QComboBox()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=50)
        self.opacity.setToolTip("opacity of the heatmap")
        self.opacity.valueChanged.connect(self._show)
        for box in (self.target, self.layer, self.method):
            box.setEnabled(False)
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.opacity.setMinimumWidth(100)
        layout = QVBoxLayout(self)
        for pairs in ((("class", self.target), ("layer", self.layer)),
                      (("method", self.method), ("opacity", self.opacity))):
            row = QHBoxLayout()
            for label, widget in pairs:
                row.addWidget(QLabel(label))
                row.addWidget(widget, stretch=1)
            layout.addLayout(row)
        layout.addWidget(self.view, stretch=1)
        layout.addWidget(self.status)
        try:
            self.image = open_rgb(path)
        except (OSError, ValueError) as exc:
            self.image = None
            self.status.setText(f"Cannot read {path}: {user_message(exc)}")
            return
        width = self.image.width
        self.image.thumbnail((SHOWN, SHOWN))
        self.scale = self.image.width / width
        self.view.setPixmap(to_pixmap(self.image))
        self.resize(max(560, self.image.width + 60), self.image.height + 170)
        self.compute()

    def compute(self) -> BackgroundCall | None:
        """Explain on a worker thread with the chosen class, layer and method."""
        if self.image is None:
            return None
        if self._call is not None and self._call.running:
            self._again = True
            return None
        explainer = self.explainer
        target = self.target.currentText() if self.target.currentIndex() > 0 else None
        layer = [self.layer.currentText()] if self.layer.currentIndex() > 0 else None
        method = self.method.currentText()
        try:
            loaded = self.model()
        except TlguiError as exc:
            self.status.setText(str(exc))
            return None

        def work() -> tuple[Explainer, Explanation]:
            ready = explainer or Explainer(loaded)
            explanation = ready.explain([self.path], class_name=target, layers=layer,
                                        method=method)[0]
            return ready, explanation

        self.status.setText("Computing the heatmap …")
        self._call = BackgroundCall(work, self)
        self._call.done.connect(self._explained)
        self._call.failed.connect(self._failed)
        self._call.start()
        return self._call

    def _failed(self, text: str) -> None:
        self.status.setText(f"Cannot explain: {text}")
        self._rerun()

    def _rerun(self) -> None:
        if self._again:
            self._again = False
            self.compute()

    def _explained(self, result: tuple[Explainer, Explanation]) -> None:
        first = self.explainer is None
        self.explainer, self.explanation = result
        if first:
            self._fill_choices()
        self._rerun()
        e = self.explanation
        if e.error:
            self.status.setText(e.error)
            return
        self.status.setText(
            f"{self.path}\npredicted {e.predicted} ({e.probability:.1%}); heatmap of "
            f"{e.explained} ({e.explained_probability:.1%}) at {e.layer}, {e.method}; peak at "
            f"x={e.peak_xy[0]}, y={e.peak_xy[1]}")
        self._show()

    def _fill_choices(self) -> None:
        self.target.addItems([PREDICTED, *self.explainer.loaded.class_names])
        self.layer.addItems([AUTOMATIC, *self.explainer.layers])
        for box in (self.target, self.layer, self.method):
            box.setEnabled(True)
            box.currentIndexChanged.connect(self.compute)

    def _show(self) -> None:
        e = self.explanation
        if self.image is None or e is None or e.heatmap is None:
            return
        box = tuple(v * self.scale for v in e.box)
        shown = overlay(self.image, e.heatmap, box, self.opacity.value() / 100)
        self.view.setPixmap(to_pixmap(shown))


def show_explanation(parent, model: Callable[[], LoadedModel], path: str, title: str = ""
                     ) -> ExplainDialog:
    """Open the explanation of ``path``, or raise the one already open (a double click also
    counts as a click)."""
    for dialog in parent.findChildren(ExplainDialog):
        if dialog.path == path and dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return dialog
    dialog = ExplainDialog(model, path, title, parent)
    dialog.open()
    return dialog
