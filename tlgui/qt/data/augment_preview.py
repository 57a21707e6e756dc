"""What the model sees: one image through the training transform several times, and
through the eval transform once; and a dialog showing an image large."""

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from tlgui.core.data.datasets import describe_eval_transform
from tlgui.core.data.image_check import open_rgb

SAMPLES = 6
TILE = 150


def tensor_to_qimage(tensor: torch.Tensor, mean, std) -> QImage:
    """Undo the normalisation of a CxHxW tensor and make an RGB QImage."""
    mean_t = torch.tensor(mean).view(-1, 1, 1)
    std_t = torch.tensor(std).view(-1, 1, 1)
    pixels = ((tensor * std_t + mean_t).clamp(0, 1) * 255).byte().permute(1, 2, 0)
    array = np.ascontiguousarray(pixels.numpy())
    height, width = array.shape[:2]
    return QImage(array.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


class AugmentPreview(QWidget):
    """``transforms()`` returns (training transform, eval transform) for the current model."""

    def __init__(self, transforms: Callable[[], tuple] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.transforms = transforms
        self.caption = QLabel("Select an image to see what the model sees.")
        self.caption.setWordWrap(True)
        self.tiles = [QLabel() for _ in range(SAMPLES + 1)]
        grid = QGridLayout()
        for i, tile in enumerate(self.tiles):
            tile.setFixedSize(TILE, TILE)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setStyleSheet("background: #f4f4f4;")
            grid.addWidget(tile, i // 3, i % 3)
        self.eval_label = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addLayout(grid)
        layout.addWidget(self.eval_label)
        layout.addStretch(1)
        self.path: str | None = None

    def show_image(self, path: str) -> bool:
        """Fill the tiles for ``path``; False (with the reason shown) if it cannot."""
        self.path = path
        if self.transforms is None:
            self.caption.setText("Open a model to see its transforms.")
            return False
        train_tf, eval_tf = self.transforms()
        try:
            image: Image.Image = open_rgb(path)
        except (OSError, ValueError) as exc:
            self.caption.setText(f"Cannot read {path}: {exc}")
            return False
        spec = describe_eval_transform(eval_tf)
        outputs = [train_tf(image) for _ in range(SAMPLES)] + [eval_tf(image)]
        for tile, tensor in zip(self.tiles, outputs, strict=True):
            pixmap = QPixmap.fromImage(tensor_to_qimage(tensor, spec.mean, spec.std))
            tile.setPixmap(pixmap.scaled(TILE, TILE, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation))
        self.caption.setText(f"{path}\nTraining transform, {SAMPLES} draws; the last tile is "
                             f"the eval transform ({spec.size}x{spec.size}), as the model sees it.")
        return True


class ImageDialog(QDialog):
    """An image at full size with its path, size, mode and label."""

    def __init__(self, path: str, label: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(path)
        view = QLabel()
        info = QLabel()
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        try:
            with Image.open(path) as image:
                details = f"{image.width}x{image.height}, mode {image.mode}, {image.format}"
            pixmap = QPixmap(path)
            view.setPixmap(pixmap)
        except (OSError, ValueError) as exc:
            details = f"cannot read: {exc}"
        info.setText(f"{path}\n{details}\nlabel: {label}")
        scroll = QScrollArea()
        scroll.setWidget(view)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, stretch=1)
        layout.addWidget(info)
        self.info = info
        self.resize(900, 700)


