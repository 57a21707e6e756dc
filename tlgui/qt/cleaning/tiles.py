"""Rows of image tiles with captions, decoded off the GUI thread by a ThumbnailLoader."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from tlgui.qt.data.thumbnails import ThumbnailLoader


class Tile(QWidget):
    """One image (``size`` pixels square) over its caption."""

    def __init__(self, path: str, caption: str, size: int) -> None:
        super().__init__()
        self.path, self.size = path, size
        self.image = QLabel("…")
        self.image.setFixedSize(size, size)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #eee;")
        self.image.setToolTip(path)
        self.caption = QLabel()
        self.caption.setFixedWidth(size)
        self.caption.setStyleSheet("font-size: 11px;")
        self.caption.setText(self.caption.fontMetrics().elidedText(
            caption, Qt.TextElideMode.ElideMiddle, size))
        self.caption.setToolTip(caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.image)
        layout.addWidget(self.caption)

    def show_image(self, image: QImage) -> None:
        self.image.setPixmap(QPixmap.fromImage(image).scaled(
            self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))

    def show_failure(self, reason: str) -> None:
        self.image.setText("unreadable")
        self.image.setToolTip(f"{self.path}: {reason}")


class TileBoard(QWidget):
    """``show_rows(rows)``: each row is (heading, [(path, caption, size), ...])."""

    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self.loader = loader
        self.tiles: list[Tile] = []
        loader.ready.connect(self._arrived)
        loader.failed.connect(self._failed)

    def show_rows(self, rows: list[tuple[str, list[tuple[str, str, int]]]]) -> None:
        """The first row on the left, the others stacked on its right."""
        old = self.layout()
        if old is not None:
            QWidget().setLayout(old)  # re-parents the old layout and its tiles, to be freed
        self.tiles = []
        board = QHBoxLayout(self)
        board.setContentsMargins(0, 0, 0, 0)
        side = QVBoxLayout()
        for number, (heading, images) in enumerate(rows):
            row = QVBoxLayout() if number == 0 else QHBoxLayout()
            label = QLabel(heading)
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop)
            if number:
                label.setFixedWidth(100)
            row.addWidget(label)
            for path, caption, size in images:
                tile = Tile(path, caption or Path(path).name, size)
                self.tiles.append(tile)
                row.addWidget(tile, alignment=Qt.AlignmentFlag.AlignTop)
                image = self.loader.get(path)
                if image is not None:
                    tile.show_image(image)
                elif self.loader.failure(path):
                    tile.show_failure(self.loader.failure(path))
            row.addStretch(1)
            if number == 0:
                board.addLayout(row)
            else:
                side.addLayout(row)
        side.addStretch(1)
        board.addLayout(side, stretch=1)

    def _arrived(self, path: str, image: QImage) -> None:
        for tile in self.tiles:
            if tile.path == path:
                tile.show_image(image)

    def _failed(self, path: str, reason: str) -> None:
        for tile in self.tiles:
            if tile.path == path:
                tile.show_failure(reason)

    def loaded(self) -> bool:
        """Whether every tile shows its image (or why it has none)."""
        return all(t.image.pixmap() is not None and not t.image.pixmap().isNull()
                   or t.image.text() == "unreadable" for t in self.tiles)
