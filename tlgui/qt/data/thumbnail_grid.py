"""A grid of thumbnails over a flat list model, laid out in constant time at any size.

``QListView`` in icon (or wrapping list) mode places every item when the model changes: it
asks the model for each row's index, a call into Python per file, about 0.75 s for a
million on every reset, insert or resize. A table of fixed cells places nothing: a row of
the grid is ``columns`` files of the list, and only the cells on screen are asked for.
"""

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

AnyIndex = QModelIndex | QPersistentModelIndex


class GridModel(QAbstractTableModel):
    """The flat list ``source`` (one column), ``columns`` of its rows to a row of cells."""

    def __init__(self, source: QAbstractItemModel, parent=None) -> None:
        super().__init__(parent)
        self.source = source
        self.columns = 1
        self.files = source.rowCount()
        source.modelAboutToBeReset.connect(self.beginResetModel)
        source.modelReset.connect(self._reset)
        source.rowsAboutToBeInserted.connect(self._inserting)
        source.rowsInserted.connect(self._inserted)
        source.dataChanged.connect(self._changed)
        self._inserting_rows = False

    def set_columns(self, columns: int) -> None:
        if columns != self.columns:
            self.beginResetModel()
            self.columns = columns
            self.endResetModel()

    def _reset(self) -> None:
        self.files = self.source.rowCount()
        self.endResetModel()

    def _grid_rows(self, files: int) -> int:
        return -(-files // self.columns)

    def _inserting(self, _parent: AnyIndex, first: int, last: int) -> None:
        """Files are only ever appended: new grid rows, and the old last row filled up."""
        before, after = self._grid_rows(first), self._grid_rows(last + 1)
        self._inserting_rows = after > before
        if self._inserting_rows:
            self.beginInsertRows(QModelIndex(), before, after - 1)

    def _inserted(self, _parent: AnyIndex, first: int, _last: int) -> None:
        self.files = self.source.rowCount()
        if self._inserting_rows:
            self.endInsertRows()
        if first % self.columns:  # the row that was partly filled has more now
            row = first // self.columns
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columns - 1))

    def _changed(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        for flat in range(top.row(), bottom.row() + 1):
            cell = self.cell(flat)
            self.dataChanged.emit(cell, cell, roles)

    def cell(self, flat: int) -> QModelIndex:
        return self.index(flat // self.columns, flat % self.columns)

    def flat(self, index: AnyIndex) -> int:
        """The list row shown in the cell ``index``; -1 for an empty cell or none."""
        if not index.isValid():
            return -1
        flat = index.row() * self.columns + index.column()
        return flat if flat < self.files else -1

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._grid_rows(self.files)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.columns

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        flat = self.flat(index)
        return None if flat < 0 else self.source.data(self.source.index(flat, 0), role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if self.flat(index) < 0:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class _Cell(QStyledItemDelegate):
    """Paints a cell in one call: the thumbnail, centred, over its caption. (The standard
    delegate asks the model for a dozen roles a cell, each a call into Python that waits for
    the interpreter while workers decode; a thousand of them made one repaint 0.5 s.)"""

    def __init__(self, icon: QSize, parent=None) -> None:
        super().__init__(parent)
        self.icon = icon

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        grid = index.model()
        row = grid.flat(index)
        if row < 0:
            return
        pixmap, caption = grid.source.picture(row)
        rect, palette = option.rect, option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.highlight())
        top = rect.y() + 3
        painter.drawPixmap(rect.x() + (rect.width() - pixmap.width()) // 2,
                           top + (self.icon.height() - pixmap.height()) // 2, pixmap)
        text = QRect(rect.x() + 2, top + self.icon.height() + 2, rect.width() - 4,
                     rect.bottom() - top - self.icon.height() - 2)
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        painter.drawText(text, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         option.fontMetrics.elidedText(caption, Qt.TextElideMode.ElideMiddle,
                                                       text.width()))
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(palette.highlight().color())
            painter.drawRect(rect.adjusted(0, 0, -1, -1))


class ThumbnailGrid(QTableView):
    """Cells of ``cell`` size, as many to a row as fit; speaks in rows of the flat list:
    ``current_changed(row)`` (-1: none) and ``activated_row(row)`` (Enter or double-click)."""

    current_changed = Signal(int)
    activated_row = Signal(int)

    def __init__(self, source: QAbstractItemModel, cell: QSize, icon: QSize,
                 parent=None) -> None:
        super().__init__(parent)
        self.cell_size = cell
        self.grid_model = GridModel(source, self)
        self.setModel(self.grid_model)
        for header, size in ((self.horizontalHeader(), cell.width()),
                             (self.verticalHeader(), cell.height())):
            header.hide()
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setMinimumSectionSize(1)
            header.setDefaultSectionSize(size)
        self.setShowGrid(False)
        self.setItemDelegate(_Cell(icon, self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # no re-wrap loop
        self.activated.connect(lambda index: self._activated(self.grid_model.flat(index)))
        self.selectionModel().currentChanged.connect(
            lambda current, _previous: self.current_changed.emit(self.grid_model.flat(current)))

    def _activated(self, row: int) -> None:
        if row >= 0:
            self.activated_row.emit(row)

    def current_row(self) -> int:
        return self.grid_model.flat(self.currentIndex())

    def set_current_row(self, row: int) -> None:
        self.setCurrentIndex(self.grid_model.cell(row))

    def visible_rows(self) -> range:
        """The list rows of the cells on screen."""
        model = self.grid_model
        if not model.files:
            return range(0)
        top = max(self.rowAt(0), 0)
        bottom = self.rowAt(self.viewport().height() - 1)
        bottom = model.rowCount() - 1 if bottom < 0 else bottom
        return range(top * model.columns, min((bottom + 1) * model.columns, model.files))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        width = self.viewport().width()
        columns = max(1, width // self.cell_size.width())
        header = self.horizontalHeader()  # the cells share what is left over, no gap at the right
        header.setDefaultSectionSize(max(self.cell_size.width(), width // columns))
        if columns != self.grid_model.columns:
            current, top = self.current_row(), self.visible_rows().start
            self.grid_model.set_columns(columns)
            if current >= 0:
                self.set_current_row(current)
            self.scrollTo(self.grid_model.cell(top), QAbstractItemView.ScrollHint.PositionAtTop)
