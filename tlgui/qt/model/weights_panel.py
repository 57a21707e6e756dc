"""The weight-diff viewer: every tensor with its provenance, change and verdict; the change
of a selected tensor as an image, and its values before and after as histograms."""

import dataclasses

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from torch import nn

from tlgui.core.model.snapshots import Snapshot, TensorDiff, diff
from tlgui.qt.widgets.columns import NamedColumns
from tlgui.qt.widgets.layout import EmptyState, across, stacked

COLUMNS = ("Tensor", "Provenance", "Frozen", "Shape", "L2 change", "Relative", "Max |Δ|",
           "Verdict")
VERDICT_COLOURS = {"unchanged": "#e6f4ea", "changed": "#fff4d6", "frozen-but-changed": "#f8c9c9",
                   "added": "#e3ecfa", "removed": "#e3ecfa"}
FILTERS = {
    "all tensors": lambda d: True,
    "alarms (frozen but changed)": lambda d: d.alarm,
    "changed": lambda d: d.verdict == "changed",
    "unchanged": lambda d: d.verdict == "unchanged",
    "frozen": lambda d: d.frozen,
}
AnyIndex = QModelIndex | QPersistentModelIndex


class DiffTableModel(NamedColumns, QAbstractTableModel):
    COLUMNS = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.all_rows: list[TensorDiff] = []
        self.rows: list[TensorDiff] = []
        self.keep = FILTERS["all tensors"]

    def set_rows(self, rows: list[TensorDiff]) -> None:
        self.beginResetModel()
        self.all_rows = rows
        self.rows = [r for r in rows if self.keep(r)]
        self.endResetModel()

    def set_filter(self, name: str) -> None:
        self.keep = FILTERS[name]
        self.set_rows(self.all_rows)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            values = (row.name, row.origin, "yes" if row.frozen else "", "×".join(map(str, row.shape)),
                      f"{row.l2:.4g}", f"{row.relative:.3g}", f"{row.max_abs:.3g}", row.verdict)
            return values[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and index.column() == 7:
            return QColor(VERDICT_COLOURS.get(row.verdict, "#ffffff"))
        if role == Qt.ItemDataRole.UserRole:
            return row.name
        return None


def delta_image(delta: torch.Tensor) -> np.ndarray:
    """A 2-D view of a tensor: conv kernels (O, I, kh, kw) tile as (O*kh, I*kw)."""
    if delta.ndim == 4:
        out, inp, kh, kw = delta.shape
        return delta.permute(0, 2, 1, 3).reshape(out * kh, inp * kw).numpy()
    if delta.ndim >= 2:
        return delta.reshape(delta.shape[0], -1).numpy()
    return delta.reshape(1, -1).numpy()


class WeightsPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.before: Snapshot | None = None
        self.model: nn.Module | None = None
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.filter = QComboBox()
        self.filter.addItems(list(FILTERS))
        self.table_model = DiffTableModel(self)
        self.filter.currentTextChanged.connect(self.table_model.set_filter)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((260, 200, 50, 90, 80, 70, 70, 130)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._show_tensor)
        self.image = pg.ImageView()
        self.image.ui.roiBtn.hide()
        self.image.ui.menuBtn.hide()
        self.histogram = pg.PlotWidget(title="Values before (grey) and after (blue)")
        self.histogram.setBackground("w")
        self.detail = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.banner, stretch=1)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter)
        self.tensor_view = EmptyState(stacked(self.image, self.histogram, self.detail),
                                      "Select a tensor: how each of its values moved "
                                      "appears here.")
        splitter = across(self.table, self.tensor_view, stretch=(3, 1))
        splitter.setSizes([900, 400])
        self.views = EmptyState(splitter, "Nothing compared yet. Train (Run › Start training, "
                                "Ctrl+Return): every tensor's change, and the verdict that "
                                "frozen ones did not move, appear here.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.views, stretch=1)

    def compare(self, before: Snapshot, model: nn.Module) -> list[TensorDiff]:
        """Diff ``model`` against ``before`` now and show the result."""
        self.before, self.model = before, model
        rows = diff(before, model)
        self.show_rows(rows)
        return rows

    def show_rows(self, rows: list[TensorDiff] | list[dict], summary: str = "") -> None:
        rows = [r if isinstance(r, TensorDiff) else TensorDiff(**{**r, "shape": tuple(r["shape"])})
                for r in rows]
        self.table_model.set_rows(rows)
        self.views.show_content()
        alarms = [r.name for r in rows if r.alarm]
        counts = {v: sum(r.verdict == v for r in rows) for v in ("unchanged", "changed")}
        text = summary or (f"{len(rows)} tensors: {counts['unchanged']} unchanged, "
                           f"{counts['changed']} changed")
        if alarms:
            text += f" — ALARM: frozen but changed: {', '.join(alarms[:5])}"
        self.banner.setText(text)
        self.banner.setStyleSheet("color: #b00020; font-weight: bold;" if alarms else
                                  "color: #1b5e20;")

    def set_source(self, before: Snapshot, model: nn.Module) -> None:
        """Where the image and histograms of a selected tensor come from."""
        self.before, self.model = before, model

    def _show_tensor(self, current: QModelIndex, _previous=None) -> None:
        if not current.isValid() or self.before is None or self.model is None:
            return
        name = self.table_model.rows[current.row()].name
        self.tensor_view.show_content()
        record = self.before.get(name)
        live = self.model.state_dict().get(name)
        if record is None or live is None or live.shape != record.tensor.shape:
            self.detail.setText(f"{name}: no before/after pair to compare")
            return
        old = record.tensor.detach().double()
        new = live.detach().to("cpu", copy=True).double()
        self.image.setImage(delta_image(new - old).T, autoLevels=True)
        self.histogram.clear()
        for values, brush in ((old, (120, 120, 120, 120)), (new, (31, 119, 180, 120))):
            counts, edges = np.histogram(values.flatten().numpy(), bins=60)
            self.histogram.plot(edges, counts, stepMode="center", fillLevel=0, brush=brush)
        row = self.table_model.rows[current.row()]
        self.detail.setText("; ".join(f"{f.name}: {getattr(row, f.name)}"
                                      for f in dataclasses.fields(row)
                                      if f.name in ("name", "origin", "verdict",
                                                    "fraction_changed")))
