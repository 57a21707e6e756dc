"""The Model panel: the layer tree, a context menu of freezing gestures, and details of the
selected layer (parameter shapes, statistics, a histogram of its weights)."""

import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.model.freeze import BN_TYPES
from tlgui.qt.widgets.layout import EmptyState, across, stacked


class ModelPanel(QWidget):
    op_requested = Signal(dict)  # a recipe operation for the undo history
    lr_multiplier_set = Signal(str, float)  # layer name, factor

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = QTreeView()
        self.view.setAlternatingRowColors(True)
        self.view.setUniformRowHeights(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.message = QLabel("No model open")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        self.details = QLabel("Select a layer to see its parameters.")
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.histogram = pg.PlotWidget(title="Weights of the selected layer")
        self.histogram.setBackground("w")
        self.histogram.getAxis("left").enableAutoSIPrefix(False)
        self.weights_view = EmptyState(self.histogram, "Click a layer: its weights' histogram "
                                       "appears here.")
        splitter = across(self.view, stacked(self.details, self.weights_view), stretch=(3, 1))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addWidget(splitter, stretch=1)
        self.layer_model = None

    def set_layer_model(self, layer_model) -> None:
        self.layer_model = layer_model
        self.view.setModel(layer_model)
        self.view.selectionModel().currentChanged.connect(self._show_details)

    def selected_name(self) -> str | None:
        index = self.view.currentIndex()
        return index.internalPointer().name if index.isValid() else None

    def _context_menu(self, point) -> QMenu | None:
        index = self.view.indexAt(point)
        if not index.isValid() or self.layer_model is None or self.layer_model.locked:
            return None
        menu = self.context_menu(index.internalPointer().name)
        menu.popup(self.view.viewport().mapToGlobal(point))
        return menu

    def context_menu(self, name: str) -> QMenu:
        model = self.layer_model.tree.model
        norms = [n for n, m in model.named_modules() if n and isinstance(m, BN_TYPES)]
        menu = QMenu(self)
        items = (
            ("Freeze up to here", name != "",
             {"op": "freeze_up_to", "layer": name}),
            ("Unfreeze from here", name != "", {"op": "unfreeze_from", "layer": name}),
            ("Freeze all normalisation layers", bool(norms),
             {"op": "freeze", "selectors": norms}),
        )
        for text, enabled, op in items:
            action = QAction(text, menu)
            action.setEnabled(enabled)
            action.triggered.connect(lambda _checked=False, o=op: self.op_requested.emit(o))
            menu.addAction(action)
        rate = QAction("Set learning-rate multiplier…", menu)
        rate.triggered.connect(lambda: self.ask_multiplier(name))
        menu.addAction(rate)
        return menu

    def ask_multiplier(self, name: str) -> None:
        factor, ok = QInputDialog.getDouble(self, "Learning-rate multiplier",
                                            f"Multiply the learning rate of {name or 'the model'}"
                                            " by", 1.0, 0.0, 1000.0, 3)
        if ok:
            self.lr_multiplier_set.emit(name or "*", factor)

    def _show_details(self, current, _previous=None) -> None:
        if not current.isValid() or self.layer_model is None:
            return
        node = current.internalPointer()
        module = self.layer_model.tree.model.get_submodule(node.name)
        lines = [f"<b>{node.name or '(model)'}</b> — {node.type_name}",
                 f"{node.total_params:,} parameters ({node.own_params:,} its own)"]
        values = []
        for pname, param in module.named_parameters():
            data = param.detach().float().cpu()
            values.append(data.flatten())
            state = "trainable" if param.requires_grad else "frozen"
            lines.append(f"{pname}: {list(param.shape)} {state}, mean {data.mean():.4g}, "
                         f"std {data.std() if data.numel() > 1 else 0:.4g}, "
                         f"min {data.min():.4g}, max {data.max():.4g}")
            if len(lines) > 40:
                lines.append("…")
                break
        self.details.setText("<br>".join(lines))
        self.histogram.clear()
        if not values:
            self.weights_view.show_hint(f"{node.name or 'This layer'} has no weights.")
        if values:
            self.weights_view.show_content()
            counts, edges = torch.histogram(torch.cat(values)[:2_000_000], bins=80)
            self.histogram.plot(edges.numpy(), counts.numpy(), stepMode="center",
                                fillLevel=0, brush=(31, 119, 180, 150))
