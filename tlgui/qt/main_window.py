"""The main window: the layer tree of the working model, and the training panel."""

import json
import logging

from PySide6.QtCore import QDateTime, QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
)

from tlgui.core.config import TrainConfig
from tlgui.core.data.datasets import train_transform
from tlgui.core.data.demo import DEMO_DATA
from tlgui.core.errors import TlguiError
from tlgui.core.model.heads import classifier_width
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.model.recipe import Experiment
from tlgui.core.model.tree import LayerTree
from tlgui.core.project.history import UndoHistory
from tlgui.core.state import AppState
from tlgui.core.train.devices import describe, pick_device
from tlgui.qt.cleaning.clean_panel import CleanPanel
from tlgui.qt.data.dataset_panel import DatasetPanel
from tlgui.qt.data.embedding_panel import EmbeddingPanel
from tlgui.qt.log_bridge import LogBridge
from tlgui.qt.model.branch_dialog import BranchDialog
from tlgui.qt.model.layer_model import LayerTreeModel
from tlgui.qt.model.model_menu import make_model_actions
from tlgui.qt.model.model_panel import ModelPanel
from tlgui.qt.model.open_model_dialog import OpenModelDialog
from tlgui.qt.model.opening import open_dropped, open_experiment
from tlgui.qt.model.weights_panel import WeightsPanel
from tlgui.qt.project_actions import ProjectActions
from tlgui.qt.results.experiments_panel import ExperimentsPanel
from tlgui.qt.results.export_actions import ExportActions
from tlgui.qt.results.predict_panel import PredictPanel
from tlgui.qt.results.results_panel import ResultsPanel
from tlgui.qt.train.run_actions import RunActions
from tlgui.qt.train.run_menu import RunMenu
from tlgui.qt.train.training_panel import TrainingPanel
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import tabbed_docks
from tlgui.qt.widgets.wheel_guard import install as install_wheel_guard


class MainWindow(QMainWindow):
    """Shows one model's layers; ticking a row's box trains it, unticking freezes it."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("tlgui")
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.state = AppState()
        self.layer_model: LayerTreeModel | None = None
        self._call: BackgroundCall | None = None

        self.model_panel = ModelPanel()
        self.model_panel.op_requested.connect(self._apply)
        self.model_panel.lr_multiplier_set.connect(self._set_multiplier)
        self.view, self.message, self.busy = (self.model_panel.view, self.model_panel.message,
                                              self.model_panel.busy)
        self.setCentralWidget(self.model_panel)

        self.training = TrainingPanel(provider=self._model_for_training, state=self.state)
        self.training.model_busy.connect(self._set_locked)
        self.training.run_finished.connect(self._training_finished)
        self.dataset = DatasetPanel(transforms=self._transforms)
        self.dataset.index_ready.connect(
            lambda index: self.training.form.data_edit.setText(str(index.root)))
        self.dataset.index_ready.connect(self.state.open_data)
        self.state.observe("data", self.dataset.show_index)
        for event in ("data", "corrections"):
            self.state.observe(event, lambda _v: self.dataset.show_corrected(
                self.state.corrected_data()))
        self.dataset.bad_files_ready.connect(self.training.set_bad_files)
        self.training.form.data_folder_changed.connect(self.dataset.open_folder)
        self.weights = WeightsPanel()
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(20_000)
        self.training.message_logged.connect(self.log_message)
        bridge = self._log_bridge = LogBridge()
        bridge.record_text.connect(self.log_message)
        logging.getLogger("tlgui").addHandler(bridge)
        self.destroyed.connect(lambda: logging.getLogger("tlgui").removeHandler(bridge))
        self.training.run_started.connect(self._watch_weights)
        self.results = ResultsPanel(source=lambda: (self.current_model(),
                                                    self.training.evaluation_data))
        self.predict = PredictPanel(source=self.current_model)
        self.experiments = ExperimentsPanel(
            settings=lambda: (self.training.form.config(), self.training.load_data()))
        self.experiments.open_cell.connect(lambda folder: self.projects.open(folder))
        self.clean = CleanPanel(self.state, self.idle_experiment, self.training)
        self.map = EmbeddingPanel(self.state, self.idle_experiment)
        self.map.selected.connect(self._show_picked)
        for panel in (self.results, self.predict, self.experiments):
            panel.message.connect(self.log_message)
        self.docks = tabbed_docks(self, {
            "Dataset": self.dataset, "Clean": self.clean, "Map": self.map,
            "Training": self.training, "Weights": self.weights,
            "Results": self.results, "Predict": self.predict, "Experiments": self.experiments,
            "Log": self.log})
        self.docks["Training"].raise_()
        self.fit_to(int(screen.width() * 0.9), int(screen.height() * 0.9))
        if DEMO_DATA.is_dir():
            self.dataset.open_folder(str(DEMO_DATA))

        self.params_label = QLabel()
        self.statusBar().addPermanentWidget(self.params_label)
        self._make_actions()
        self.projects = ProjectActions(self)
        self.exports = ExportActions(self, self.projects.menu)
        self.runs = RunActions(self, self.projects.menu)
        self.run_menu = RunMenu(self)
        install_wheel_guard(QApplication.instance())  # app-wide: settings ignore a stray wheel
        self.setAcceptDrops(True)
        settings = QSettings()
        if settings.value("window/geometry") is not None:
            self.restoreGeometry(settings.value("window/geometry"))
            self.restoreState(settings.value("window/state"))
        if settings.value("training/config"):
            try:
                self.training.set_config(TrainConfig.from_dict(
                    json.loads(settings.value("training/config"))))
            except (TypeError, ValueError):
                settings.remove("training/config")  # written by another version

    @property
    def experiment(self) -> Experiment | None:
        return self.state.experiment

    @property
    def history(self) -> UndoHistory | None:
        return self.state.history

    def fit_to(self, width: int, height: int) -> None:
        """Size the window, giving the bottom docks (training plots) three fifths of it."""
        self.resize(width, height)
        self.resizeDocks([self.docks["Training"]], [height * 3 // 5], Qt.Orientation.Vertical)

    def _make_actions(self) -> None:
        make_model_actions(self)
        self._update_undo_actions()

    def _model_actions(self) -> tuple[QAction, ...]:
        return (self.head_only_action, self.all_trainable_action, self.first_k_action,
                self.head_action, self.branch_action)

    def freeze_first_blocks(self, k: int | None = None) -> None:
        """Freeze the first ``k`` top-level blocks (asks when ``k`` is None)."""
        if self.experiment is None:
            return
        blocks = [n for n, _ in self.experiment.model.named_children()]
        if k is None:
            k, ok = QInputDialog.getInt(self, "Freeze the first blocks",
                                        f"Blocks to freeze (of {len(blocks)}: "
                                        f"{', '.join(blocks)})", 1, 1, len(blocks))
            if not ok:
                return
        self._apply({"op": "freeze", "selectors": list(range(k))})

    def replace_head(self, classes: int | None = None) -> None:
        """A fresh head; the number of classes defaults to the open dataset's."""
        if self.experiment is None:
            return
        if classes is None:
            default = len(self.dataset.index.classes) if self.dataset.index else 2
            classes, ok = QInputDialog.getInt(self, "Replace head", "Number of classes",
                                              default, 1, 100_000)
            if not ok:
                return
        self._apply({"op": "replace_head", "num_classes": classes})

    def choose_model(self) -> OpenModelDialog:
        dialog = OpenModelDialog(self)
        dialog.accepted.connect(lambda: self.open_model(*dialog.choice()))
        dialog.open()
        return dialog

    def open_model(self, spec: str, weights: str = "default", trust_code: bool = False,
                   input_size: tuple[int, int, int] | None = None) -> BackgroundCall:
        """Load ``spec`` on a worker thread; the tree appears when it is ready. The training
        form's seed becomes the recipe's seed."""
        self.message.setText(f"Loading {spec} ({weights} weights) …")
        self.message.setVisible(True)
        self.busy.setVisible(True)
        seed = self.training.form.seed.value()
        self._call = BackgroundCall(
            lambda: open_experiment(spec, weights, trust_code, seed, input_size), self)
        self._call.done.connect(self._show_model)
        self._call.failed.connect(self._show_error)
        self._call.start()
        return self._call

    def adopt(self, experiment: Experiment, tree: LayerTree | None = None) -> None:
        """Show ``experiment`` as the open one (a new undo history starts)."""
        self._show_model((experiment, tree or LayerTree(experiment.model,
                                                        experiment.loaded.input_size)))

    def _show_model(self, result: tuple[Experiment, LayerTree]) -> None:
        experiment, tree = result
        self.state.open_experiment(experiment)
        self._show_tree(tree)
        self.busy.setVisible(False)
        self.message.setVisible(False)
        for action in self._model_actions():
            action.setEnabled(True)
        self._update_undo_actions()
        loaded = self.experiment.loaded
        self.setWindowTitle(f"tlgui — {loaded.spec} ({loaded.weights} weights)")

    def _show_tree(self, tree: LayerTree) -> None:
        self.layer_model = LayerTreeModel(tree, apply_op=self._apply, parent=self)
        self.layer_model.trainable_changed.connect(self._update_counts)
        self.model_panel.set_layer_model(self.layer_model)
        self.view.expand(self.layer_model.index(0, 0))
        header = self.view.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.view.setColumnWidth(0, 300)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._update_counts()

    def log_message(self, text: str) -> None:
        stamp = QDateTime.currentDateTime().toString("HH:mm:ss")
        self.log.appendPlainText(f"{stamp}  {text}")

    def _show_error(self, message: str) -> None:
        self.log_message(f"could not open the model: {message}")
        self.busy.setVisible(False)
        self.message.setText(f"Could not open the model:\n{message}")
        QMessageBox.warning(self, "Could not open the model", message)

    def _apply(self, op: dict) -> None:
        """Apply a recipe operation as one undoable step."""
        if self.history is None or self.training.is_busy():
            return
        self.history.do(op)
        self._after_change(op)

    def _step(self, undo: bool) -> None:
        if self.history is None or self.training.is_busy():
            return
        op = self.history.undo() if undo else self.history.redo()
        if op is not None:
            self._after_change(op)

    def _after_change(self, op: dict) -> None:
        if op["op"] in ("replace_head", "branch"):
            self._show_tree(LayerTree(self.experiment.model, self.experiment.loaded.input_size))
        else:
            self.layer_model.refresh()
            self._update_counts()
        self._update_undo_actions()

    def _set_multiplier(self, name: str, factor: float) -> None:
        self.training.form.lr_multipliers[name] = factor
        self.training.say(f"learning-rate multiplier for {name}: {factor:g}")

    def _update_undo_actions(self) -> None:
        history, busy = self.history, self.training.is_busy()
        self.undo_action.setEnabled(bool(history and history.can_undo()) and not busy)
        self.redo_action.setEnabled(bool(history and history.can_redo()) and not busy)
        self.undo_action.setText(f"&Undo {history.undo_text()}" if history else "&Undo")
        self.redo_action.setText(f"&Redo {history.redo_text()}" if history else "&Redo")

    def add_branch(self) -> BranchDialog | None:
        """Open the branch dialog; applying it is one undoable step."""
        if self.experiment is None or self.training.is_busy():
            return None
        dialog = BranchDialog(self.experiment.model, self.experiment.loaded.input_size, self)
        dialog.accepted.connect(lambda: self._apply(dialog.op()))
        dialog.open()
        return dialog

    def _watch_weights(self) -> None:
        worker = self.training.run.worker
        worker.epoch_hook = self.projects.autosave_hook()
        worker.weights_diffed.connect(self._epoch_weights)
        worker.finished.connect(self._final_weights)

    def _epoch_weights(self, rows: list) -> None:
        trainer = self.training.run.worker.trainer
        self.weights.set_source(trainer.before, trainer.model)
        self.weights.show_rows(rows)

    def _final_weights(self, info: dict) -> None:
        if info["integrity_rows"]:
            trainer = self.training.run.worker.trainer
            self.weights.set_source(trainer.before, trainer.model)
            self.weights.show_rows(info["integrity_rows"], info["summary"].replace("\n", " · "))

    def _transforms(self) -> tuple:
        """(training transform, eval transform) of the open model, for the preview."""
        if self.experiment is None:
            raise TlguiError("open a model first")
        evaluation = self.experiment.loaded.transform
        preset = self.training.form.augment.currentText()
        return train_transform(evaluation, "light" if preset == "auto" else preset), evaluation

    def _model_for_training(self, classes: list[str]):
        if self.experiment is None:
            raise TlguiError("open a model first")
        if classifier_width(self.experiment.model) != len(classes):
            self._apply({"op": "replace_head", "num_classes": len(classes)})
            self.training.say(f"replaced the head for {len(classes)} classes")
        return self.experiment

    def idle_experiment(self) -> Experiment:
        """The open experiment, when no run or range test is using it."""
        if self.experiment is None:
            raise TlguiError("open a model first")
        if self.training.is_busy():
            raise TlguiError("the model is in use (training, or the learning-rate finder); use it "
                             "when that has finished")
        return self.experiment

    def current_model(self) -> LoadedModel:
        """The working model as a LoadedModel named with the classes it was trained on."""
        self.idle_experiment()
        loaded, width = self.experiment.loaded, classifier_width(self.experiment.model) or 0
        names = next((c for c in (self.training.classes, loaded.class_names) if len(c) == width),
                     [f"class_{i}" for i in range(width)])
        return LoadedModel(self.experiment.model, loaded.transform, list(names),
                           loaded.input_size, loaded.spec, loaded.weights)

    def _set_locked(self, locked: bool) -> None:
        if self.layer_model is not None:
            self.layer_model.locked = locked
            self.layer_model.refresh()
        for action in self._model_actions():
            action.setEnabled(not locked and self.experiment is not None)
        self._update_undo_actions()

    def _training_finished(self, info: dict) -> None:
        self._update_counts()
        run = self.state.run_data
        if info["error"] is None and info["epochs"] and run and run.splits.get("valid"):
            self.results.split.setCurrentText("val")  # the run's own held-out images
            self.results.evaluate()
        if info.get("summary"):
            self.statusBar().showMessage(info["summary"].splitlines()[0], 10_000)

    def _update_counts(self, *_args) -> None:
        if self.layer_model is None:
            return
        tree = self.layer_model.tree
        total, trainable = tree.root.total_params, tree.trainable_params()
        self.params_label.setText(f"trainable {trainable:,} / {total:,} parameters")
        self.statusBar().showMessage(
            f"{self.experiment.loaded.spec} · training device: {describe(pick_device())}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.training.is_busy():
            answer = QMessageBox.question(
                self, "Training is running", "Stop training and close the window?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.training.shutdown()
        self.clean.shutdown()  # stops a data check
        self.map.shutdown()
        for call in self.findChildren(BackgroundCall):  # every dock's work on a thread
            call.wait()
        self.dataset.shutdown()
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        try:
            settings.setValue("training/config", json.dumps(self.training.form.config().as_dict()))
        except ValueError:
            pass  # an unparsable "unfreeze at" entry: keep the last good settings
        super().closeEvent(event)

    def _show_picked(self, paths: list[str]) -> None:
        self.dataset.show_only(paths)
        self.docks["Dataset"].raise_()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            open_dropped(self, url.toLocalFile())
