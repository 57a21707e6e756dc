"""A Qt item model over the core's layer tree, with a tri-state freeze checkbox per row.

The model only translates: ``data(CheckStateRole)`` reads the core's trainable state,
``setData`` calls the core's ``set_trainable``. Rows are the tree's ``LayerNode`` records,
keyed by qualified name; no module object is held by the view.
"""

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from tlgui.core.model.freeze import set_trainable
from tlgui.core.model.tree import LayerNode, LayerTree
from tlgui.qt.widgets.columns import NamedColumns

COLUMNS = ("Layer", "Type", "Output shape", "Parameters", "Trainable")
_CHECK = {"trainable": Qt.CheckState.Checked, "frozen": Qt.CheckState.Unchecked,
          "mixed": Qt.CheckState.PartiallyChecked}

AnyIndex = QModelIndex | QPersistentModelIndex


def toggle_op(name: str, trainable: bool, train_bn: bool) -> dict:
    """The recipe operation for ticking (trainable) or unticking (frozen) one row."""
    if not name:
        return {"op": "preset", "name": "all"} if trainable else \
            {"op": "freeze", "selectors": ["*"], "train_bn": train_bn}
    if trainable:
        return {"op": "unfreeze", "selectors": [name]}
    return {"op": "freeze", "selectors": [name], "train_bn": train_bn}


class LayerTreeModel(NamedColumns, QAbstractItemModel):
    """Columns: name, type, output shape, parameters, trainable; checkbox on the name."""

    COLUMNS = COLUMNS

    trainable_changed = Signal(str)  # qualified name of the layer that was toggled

    def __init__(self, tree: LayerTree, *, train_bn: bool = False,
                 apply_op: Callable[[dict], None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.tree = tree
        self.apply_op = apply_op  # routes a checkbox click through the undo history
        self.train_bn = train_bn
        self.locked = False  # no freezing changes while training runs
        self._parents: dict[str, LayerNode] = {}
        for node in tree.nodes.values():
            for child in node.children:
                self._parents[child.name] = node

    def _node(self, index: AnyIndex) -> LayerNode:
        return index.internalPointer() if index.isValid() else self.tree.root

    def index_of(self, name: str, column: int = 0) -> QModelIndex:
        """The index of the layer called ``name`` (the root row for "")."""
        node = self.tree.nodes[name]
        parent = self._parents.get(name)
        row = parent.children.index(node) if parent else 0
        return self.createIndex(row, column, node)

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        if not parent.isValid():
            return self.createIndex(row, column, self.tree.root) if row == 0 else QModelIndex()
        children = self._node(parent).children
        if 0 <= row < len(children):
            return self.createIndex(row, column, children[row])
        return QModelIndex()

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        parent = self._parents.get(self._node(index).name)
        return self.index_of(parent.name) if parent else QModelIndex()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return 1
        return len(self._node(parent).children) if parent.column() == 0 else 0

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0 and self._node(index).total_params and not self.locked:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node, column = self._node(index), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(node, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == 0 and node.total_params:
            return _CHECK[self.tree.state(node.name)]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return node.name or "(whole model)"
        return None

    def _display(self, node: LayerNode, column: int) -> str:
        if column == 0:
            return node.short_name
        if column == 1:
            return node.type_name
        if column == 2:
            return " × ".join(str(d) for d in node.output_shape[1:]) if node.output_shape else ""
        if column == 3:
            return f"{node.total_params:,}" if node.total_params else ""
        return self.tree.state(node.name) or ""

    def setData(self, index: AnyIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        node = self._node(index)
        if not node.total_params or self.locked:
            return False
        trainable = Qt.CheckState(value) != Qt.CheckState.Unchecked
        if self.apply_op is None:
            set_trainable(self.tree.model, [node.name], trainable, train_bn=self.train_bn)
            self.refresh()
        else:
            self.apply_op(toggle_op(node.name, trainable, self.train_bn))
        self.trainable_changed.emit(node.name)
        return True

    def refresh(self) -> None:
        """Tell views that trainable state may have changed anywhere (after a core call)."""
        for node in self.tree.nodes.values():
            if node.children:
                first = self.index(0, 0, self.index_of(node.name))
                last = self.index(len(node.children) - 1, len(COLUMNS) - 1,
                                  self.index_of(node.name))
                self.dataChanged.emit(first, last, [Qt.ItemDataRole.CheckStateRole,
                                                    Qt.ItemDataRole.DisplayRole])
        root_first, root_last = self.index(0, 0), self.index(0, len(COLUMNS) - 1)
        self.dataChanged.emit(root_first, root_last)
