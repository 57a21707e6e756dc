"""A list model over a :class:`~tlgui.core.data.listing.Listing`: one row per shown file,
thumbnails on demand.

The rows shown are an array of file numbers, ascending; no widget, pixmap or Python object
exists for a row until the view asks to draw it, so a million files cost the listing's
columns and one array.
"""

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from tlgui.core.data.listing import Listing
from tlgui.qt.data.thumbnails import THUMB_SIZE, ThumbnailLoader

AnyIndex = QModelIndex | QPersistentModelIndex
PathRole = Qt.ItemDataRole.UserRole + 1
ASKED_LIMIT = 4096  # paths whose thumbnail was asked for, to find their row when it comes
NOT_SPLIT = "not split yet"


class ImageListModel(QAbstractListModel):
    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.listing = Listing([])
        self.rows = np.empty(0, np.int64)  # file numbers shown, ascending
        self.filtered = False  # False: every file is shown, and files added are too
        self._numbers = np.arange(0)  # 0, 1, 2 ...: `rows` when every file is shown
        self._asked: dict[str, int] = {}  # path -> file number, of thumbnails asked for
        self.placeholder = QPixmap(QSize(THUMB_SIZE, THUMB_SIZE))
        self.placeholder.fill(QColor("#e4e4e4"))
        self.broken = QPixmap(QSize(THUMB_SIZE, THUMB_SIZE))
        self.broken.fill(QColor("#f3c0c0"))
        self._pixmaps: dict[str, QPixmap] = {}
        loader.ready.connect(self._thumbnail_ready)
        loader.failed.connect(lambda path, _reason: self._thumbnail_ready(path, QImage()))
        # a failed thumbnail repaints as `broken`: the loader remembers the failure

    def set_listing(self, listing: Listing) -> None:
        """Show every file of ``listing`` (a filter is then set again by the caller)."""
        self.beginResetModel()
        self.listing = listing
        self.rows = self._every_file()
        self.filtered = False
        self._asked.clear()
        self._pixmaps.clear()
        self.endResetModel()

    def add(self, split: str | None, label: int, folder: str, names: list[str]) -> None:
        """Files found while the folder is still scanned: shown at once unless filtered."""
        start = len(self.listing)
        self.listing.add(split, label, folder, names)
        if self.filtered:
            return
        self.beginInsertRows(QModelIndex(), start, start + len(names) - 1)
        self.rows = self._every_file()
        self.endInsertRows()

    def show_rows(self, rows: np.ndarray | None) -> None:
        """Show these file numbers (from :meth:`Listing.select`), or every file with None."""
        self.beginResetModel()
        self.filtered = rows is not None
        self.rows = self._every_file() if rows is None else rows
        self.endResetModel()

    def _every_file(self) -> np.ndarray:
        """Every file number, in a view of an array made again only when it doubles (files
        come in batches, and the million before a batch should cost nothing)."""
        files = len(self.listing)
        if len(self._numbers) < files:
            self._numbers = np.arange(max(files, 2 * len(self._numbers)))
        return self._numbers[:files]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        number = int(self.rows[index.row()])
        listing = self.listing
        if role == Qt.ItemDataRole.DisplayRole:
            return listing.classes[listing.labels[number]]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(listing.path(number), number)
        if role == Qt.ItemDataRole.ToolTipRole:
            split = listing.split(number) or NOT_SPLIT
            return f"{listing.path(number)}\n{split} · {listing.classes[listing.labels[number]]}"
        if role == PathRole:
            return listing.path(number)
        return None

    def picture(self, row: int) -> tuple[QPixmap, str]:
        """What the grid's cell for ``row`` shows: the thumbnail (a placeholder until it is
        decoded) and the class."""
        number = int(self.rows[row])
        listing = self.listing
        return self._pixmap(listing.path(number), number), listing.classes[listing.labels[number]]

    def _pixmap(self, path: str, number: int) -> QPixmap:
        pixmap = self._pixmaps.get(path)
        if pixmap is not None:
            return pixmap
        image = self.loader.get(path)
        if image is None:
            if len(self._asked) >= ASKED_LIMIT:
                self._asked.clear()  # asked long ago: scrolled out of view
            self._asked[path] = number
            return self.broken if self.loader.failure(path) else self.placeholder
        pixmap = QPixmap.fromImage(image)
        self._pixmaps[path] = pixmap
        if len(self._pixmaps) > 600:  # pixmaps of what was on screen lately
            self._pixmaps.pop(next(iter(self._pixmaps)))
        return pixmap

    def _thumbnail_ready(self, path: str, image: QImage) -> None:
        number = self._asked.pop(path, None)
        if number is None:
            return
        row = int(np.searchsorted(self.rows, number))
        if row < len(self.rows) and self.rows[row] == number:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def sample(self, row: int) -> tuple[str, int, str | None]:
        return self.listing.sample(int(self.rows[row]))
