"""The main window: the layer tree of the open model with freeze checkboxes."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.devices import describe, pick_device
from tlgui.core.freeze import freeze_all_but_head, unfreeze_all
from tlgui.core.tree import LayerTree
from tlgui.core.zoo import LoadedModel, load_model
from tlgui.qt.layer_model import LayerTreeModel
from tlgui.qt.workers import BackgroundCall


def _build(spec: str) -> tuple[LoadedModel, LayerTree]:
    loaded = load_model(spec)
    return loaded, LayerTree(loaded.model, loaded.input_size)


class MainWindow(QMainWindow):
    """Shows one model's layers; ticking a row's box trains it, unticking freezes it."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("tlgui")
        self.resize(1000, 700)
        self.loaded: LoadedModel | None = None
        self.layer_model: LayerTreeModel | None = None
        self._call: BackgroundCall | None = None

        self.view = QTreeView()
        self.view.setAlternatingRowColors(True)
        self.view.setUniformRowHeights(True)
        self.message = QLabel("No model open")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addWidget(self.view, stretch=1)
        self.setCentralWidget(central)
        self.params_label = QLabel()
        self.statusBar().addPermanentWidget(self.params_label)
        self._make_actions()

    def _make_actions(self) -> None:
        model_menu = self.menuBar().addMenu("&Model")
        self.head_only_action = QAction("Freeze all but the &head", self)
        self.head_only_action.setShortcut(QKeySequence("Ctrl+H"))
        self.head_only_action.triggered.connect(lambda: self._preset(freeze_all_but_head))
        self.all_trainable_action = QAction("Make &all trainable", self)
        self.all_trainable_action.setShortcut(QKeySequence("Ctrl+A"))
        self.all_trainable_action.triggered.connect(lambda: self._preset(unfreeze_all))
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (self.head_only_action, self.all_trainable_action):
            action.setEnabled(False)
            model_menu.addAction(action)
        model_menu.addSeparator()
        model_menu.addAction(quit_action)
        toolbar = self.addToolBar("Freezing")
        toolbar.setObjectName("freezing-toolbar")
        toolbar.addAction(self.head_only_action)
        toolbar.addAction(self.all_trainable_action)

    def open_model(self, spec: str) -> BackgroundCall:
        """Load ``spec`` on a worker thread; the tree appears when it is ready."""
        self.message.setText(f"Loading {spec} …")
        self.message.setVisible(True)
        self.busy.setVisible(True)
        self._call = BackgroundCall(lambda: _build(spec), self)
        self._call.done.connect(self._show_model)
        self._call.failed.connect(self._show_error)
        self._call.start()
        return self._call

    def _show_model(self, result: tuple[LoadedModel, LayerTree]) -> None:
        self.loaded, tree = result
        self.layer_model = LayerTreeModel(tree, parent=self)
        self.layer_model.trainable_changed.connect(self._update_counts)
        self.view.setModel(self.layer_model)
        self.view.expand(self.layer_model.index(0, 0))
        header = self.view.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.view.setColumnWidth(0, 300)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.busy.setVisible(False)
        self.message.setVisible(False)
        for action in (self.head_only_action, self.all_trainable_action):
            action.setEnabled(True)
        self.setWindowTitle(f"tlgui — {self.loaded.spec} ({self.loaded.weights} weights)")
        self._update_counts()

    def _show_error(self, message: str) -> None:
        self.busy.setVisible(False)
        self.message.setText(f"Could not open the model:\n{message}")
        QMessageBox.warning(self, "Could not open the model", message)

    def _preset(self, fn) -> None:
        if self.loaded is None or self.layer_model is None:
            return
        fn(self.loaded.model)
        self.layer_model.refresh()
        self._update_counts()

    def _update_counts(self, *_args) -> None:
        if self.layer_model is None:
            return
        tree = self.layer_model.tree
        total, trainable = tree.root.total_params, tree.trainable_params()
        self.params_label.setText(f"trainable {trainable:,} / {total:,} parameters")
        self.statusBar().showMessage(
            f"{self.loaded.spec} · training device: {describe(pick_device())}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._call is not None:
            self._call.wait()
        super().closeEvent(event)
