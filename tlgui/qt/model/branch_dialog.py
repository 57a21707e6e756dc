"""The "Add parallel branch" dialog: pick fork and join from the traced graph, see a
preview (tree, parameter counts, output shape) before anything changes."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
)
from torch import nn

from tlgui.core.model.branch import add_parallel_branch, branch_points
from tlgui.core.model.heads import classifier_width
from tlgui.core.model.tree import LayerTree
from tlgui.qt.model.layer_model import LayerTreeModel
from tlgui.qt.widgets.background import BackgroundCall


class BranchDialog(QDialog):
    """``op()`` gives the recipe operation once the preview has succeeded."""

    def __init__(self, model: nn.Module, input_size: tuple[int, ...], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add parallel branch")
        self.resize(760, 620)
        self.model, self.input_size = model, input_size
        self.joins: dict[str, list[str]] = {}
        self.preview_model: nn.Module | None = None
        self._calls: list[BackgroundCall] = []
        self.fork = QComboBox()
        self.join = QComboBox()
        self.init = QComboBox()
        self.init.addItems(["copy", "fresh"])
        self.merge = QComboBox()
        self.merge.addItems(["concat", "sum", "mean"])
        self.classes = QSpinBox(minimum=1, maximum=100_000,
                                value=classifier_width(model) or 2)
        self.summary = QLabel("Reading the network's graph…")
        self.summary.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.tree = QTreeView()
        self.tree.setUniformRowHeights(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Apply")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        for label, widget in (("Fork at", self.fork), ("Join at", self.join),
                              ("Branch weights", self.init), ("Merge", self.merge),
                              ("Classes", self.classes)):
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.tree, stretch=1)
        layout.addWidget(self.buttons)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.preview)
        self.fork.currentTextChanged.connect(self._fill_joins)
        for box in (self.join, self.init, self.merge):
            box.currentTextChanged.connect(self._schedule)
        self.classes.valueChanged.connect(self._schedule)
        self._set_ok(False)
        self._run(lambda: branch_points(model), self._graph_ready)

    def _run(self, fn, on_done) -> BackgroundCall:
        call = BackgroundCall(fn, self)
        call.done.connect(on_done)
        call.failed.connect(self._show_error)
        self._calls.append(call)
        call.start()
        return call

    def _set_ok(self, enabled: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(enabled)

    def _graph_ready(self, result) -> None:
        names, self.joins = result
        forks = [n for n in names if self.joins.get(n)]
        self.fork.addItems(forks)
        default = next((n for n in reversed(forks) if "flatten" in self.joins[n]), forks[0])
        self.fork.setCurrentText(default)
        self.summary.setText("Choose where the branch starts and where it joins.")

    def _fill_joins(self, fork: str) -> None:
        self.join.blockSignals(True)
        self.join.clear()
        self.join.addItems(self.joins.get(fork, []))
        self.join.setCurrentIndex(self.join.count() - 1)
        self.join.blockSignals(False)
        self._schedule()

    def _schedule(self, *_args) -> None:
        self._set_ok(False)
        self._debounce.start()

    def op(self) -> dict:
        return {"op": "branch", "fork": self.fork.currentText(), "join": self.join.currentText(),
                "init": self.init.currentText(), "merge": self.merge.currentText(),
                "num_classes": self.classes.value()}

    def preview(self) -> BackgroundCall | None:
        if not self.fork.currentText() or not self.join.currentText():
            return None
        op, size = self.op(), self.input_size

        def build():
            result = add_parallel_branch(self.model, op["fork"], op["join"], op["init"],
                                         op["merge"], op["num_classes"], input_size=size)
            return op, result, LayerTree(result, size)

        self.error.clear()
        self.summary.setText("Building the preview…")
        return self._run(build, self._show_preview)

    def _show_preview(self, result) -> None:
        op, model, tree = result
        if op != self.op():
            return  # the settings changed while this preview was being built
        self.preview_model = model
        self.tree.setModel(LayerTreeModel(tree, parent=self.tree))
        self.tree.expand(self.tree.model().index(0, 0))
        self.tree.setColumnWidth(0, 260)
        before = sum(p.numel() for p in self.model.parameters())
        total = tree.root.total_params
        shape = " × ".join(str(d) for d in (tree.root.output_shape or ())[1:])
        self.summary.setText(
            f"{total:,} parameters ({total - before:+,} new), {tree.trainable_params():,} "
            f"trainable; output {shape}. Branch layers are under 'branch'.")
        self._set_ok(True)

    def _show_error(self, message: str) -> None:
        self.preview_model = None
        self.summary.setText("")
        self.error.setText(message)
        self._set_ok(False)

    def done(self, result: int) -> None:
        for call in self._calls:
            call.wait()
        super().done(result)

