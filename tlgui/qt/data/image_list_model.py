"""A list model over an indexed image folder: one row per file, thumbnails on demand.

Filtering rebuilds a list of row numbers (fast for tens of thousands of files); no widget
or pixmap exists for a row until the view asks to draw it.
"""

from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from tlgui.core.data.data_index import DataIndex
from tlgui.qt.data.thumbnails import THUMB_SIZE, ThumbnailLoader

AnyIndex = QModelIndex | QPersistentModelIndex
PathRole = Qt.ItemDataRole.UserRole + 1


class ImageListModel(QAbstractListModel):
    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.index_data: DataIndex | None = None
        self.files: list[tuple[str, int, str]] = []  # path, label, split
        self.rows: list[int] = []  # file numbers shown, in order
        self._position: dict[int, int] = {}  # file number -> row
        self._row_of: dict[str, int] = {}  # path -> file number
        self.placeholder = QPixmap(QSize(THUMB_SIZE, THUMB_SIZE))
        self.placeholder.fill(QColor("#e4e4e4"))
        self.broken = QPixmap(QSize(THUMB_SIZE, THUMB_SIZE))
        self.broken.fill(QColor("#f3c0c0"))
        self._pixmaps: dict[str, QPixmap] = {}
        loader.ready.connect(self._thumbnail_ready)
        loader.failed.connect(lambda path, _reason: self._thumbnail_ready(path, QImage()))
        # a failed thumbnail repaints as `broken`: the loader remembers the failure

    def set_index(self, index: DataIndex) -> None:
        self.beginResetModel()
        self.index_data = index
        self.files = [(str(p), label, split) for split, samples in index.splits.items()
                      for p, label in samples]
        self.rows = list(range(len(self.files)))
        self._position = {i: i for i in self.rows}
        self._row_of = {f[0]: i for i, f in enumerate(self.files)}
        self._pixmaps.clear()
        self.endResetModel()

    def set_filter(self, split: str = "", class_name: str = "", text: str = "",
                   only: set[str] | None = None) -> None:
        """Keep rows of this split and class whose file name contains ``text`` (and whose
        path is in ``only``, when given)."""
        classes = self.index_data.classes if self.index_data else []
        label = classes.index(class_name) if class_name in classes else None
        needle = text.lower()
        self.beginResetModel()
        self.rows = [i for i, (path, lab, spl) in enumerate(self.files)
                     if (not split or spl == split) and (label is None or lab == label)
                     and (not needle or needle in Path(path).name.lower())
                     and (only is None or str(path) in only)]
        self._position = {file_row: row for row, file_row in enumerate(self.rows)}
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        path, label, split = self.files[self.rows[index.row()]]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.index_data.classes[label]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{path}\n{split} · {self.index_data.classes[label]}"
        if role == PathRole:
            return path
        return None

    def _pixmap(self, path: str) -> QPixmap:
        pixmap = self._pixmaps.get(path)
        if pixmap is not None:
            return pixmap
        image = self.loader.get(path)
        if image is None:
            return self.broken if self.loader.failure(path) else self.placeholder
        pixmap = QPixmap.fromImage(image)
        self._pixmaps[path] = pixmap
        if len(self._pixmaps) > 600:  # pixmaps of what was on screen lately
            self._pixmaps.pop(next(iter(self._pixmaps)))
        return pixmap

    def _thumbnail_ready(self, path: str, image: QImage) -> None:
        row = self._position.get(self._row_of.get(path, -1))
        if row is None:
            return
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def sample(self, row: int) -> tuple[str, int, str]:
        return self.files[self.rows[row]]
