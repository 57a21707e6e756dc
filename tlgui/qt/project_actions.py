"""The File menu: open and save projects, recent projects, autosave, script export."""

import json
from pathlib import Path

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tlgui.core.config import TrainConfig
from tlgui.core.data.corrections import Corrections
from tlgui.core.errors import TlguiError
from tlgui.core.files import write_text_atomically
from tlgui.core.project.export import export_script
from tlgui.core.project.project import Project, load_project, save_project
from tlgui.core.project.trained import load_trained
from tlgui.qt.actions import make_action
from tlgui.qt.widgets.background import BackgroundCall

RECENT_KEY = "recent_projects"
RECENT_COUNT = 8


def read_project_or_run(path: Path) -> Project:
    """A .tlgui project, or a run folder (tlgui train --out, a comparison cell) as a project."""
    if not path.is_dir():
        return load_project(path)
    trained = load_trained(path)
    try:
        history = json.loads((path / "history.json").read_text()).get("epochs", [])
    except (OSError, ValueError):
        history = []
    try:
        corrections = json.loads((path / "run.json").read_text()).get("corrections")
    except (OSError, ValueError):
        corrections = None
    return Project(trained.experiment, TrainConfig.from_dict(trained.config), history,
                   trained.data_folder, trained.classes, Corrections.from_dict(corrections))


class ProjectActions(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.settings = QSettings()
        self._call: BackgroundCall | None = None
        bar = window.menuBar()
        menu = bar.addMenu("&File")
        bar.insertMenu(bar.actions()[0], menu)
        self.menu = menu
        specs = (("&Open project…", QKeySequence.StandardKey.Open, self.choose_and_open),
                 ("&Save project", QKeySequence.StandardKey.Save, lambda: self.save()),
                 ("Save project &as…", QKeySequence("Ctrl+Shift+S"), self.save_as),
                 ("&Export as Python script…", QKeySequence("Ctrl+E"), self.export))
        self.actions: dict[str, QAction] = {}
        for text, keys, slot in specs:
            action = make_action(window, text, slot, keys)
            menu.addAction(action)
            self.actions[text.replace("&", "").rstrip("…")] = action
        self.recent_menu = menu.addMenu("&Recent projects")
        self._fill_recent()

    def recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.settings.setValue(RECENT_KEY, items[:RECENT_COUNT])
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for item in self.recent():
            action = self.recent_menu.addAction(item)
            action.triggered.connect(lambda _checked=False, p=item: self.open(p))
        self.recent_menu.setEnabled(bool(self.recent()))

    def _config(self) -> TrainConfig:
        try:
            return self.window.training.form.config()
        except ValueError:
            return TrainConfig()

    def current(self) -> Project:
        window = self.window
        return Project(window.experiment, self._config(), list(window.training.history),
                       window.training.form.data_folder(), list(window.training.classes),
                       window.state.corrections)

    def save(self, path: str | Path | None = None) -> Path | None:
        if self.window.experiment is None:
            return None
        target = Path(path) if path else self.path
        if target is None:
            return self.save_as()
        if self.window.training.is_running():
            self.window.statusBar().showMessage("The project is saved after each epoch "
                                                "while training runs", 5000)
            return None
        if self.window.training.is_busy():  # the range test holds trial weights
            self.window.statusBar().showMessage("Save when the learning-rate finder has "
                                                "finished", 5000)
            return None
        self.path = save_project(target, self.current())
        self._remember(self.path)
        self.window.statusBar().showMessage(f"saved {self.path}", 5000)
        return self.path

    def save_as(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self.window, "Save project", "experiment.tlgui",
                                              "tlgui projects (*.tlgui)")
        return self.save(name if name.endswith(".tlgui") else f"{name}.tlgui") if name else None

    def autosave_hook(self):
        """A callable for the training thread: saves after each epoch when a path is set."""
        if self.path is None:
            return None
        path, project = self.path, self.current()

        def hook(history: list[dict]) -> None:
            project.history = history
            save_project(path, project)

        return hook

    def choose_and_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Open project", "",
                                              "tlgui projects (*.tlgui)")
        if name:
            self.open(name)

    def open(self, path: str | Path) -> BackgroundCall | None:
        if self.window.training.is_busy():
            return None
        path = Path(path)
        self.window.statusBar().showMessage(f"opening {path} …")
        self._call = BackgroundCall(lambda: read_project_or_run(path), self)
        self._call.done.connect(lambda project: self._opened(path, project))
        self._call.failed.connect(lambda message: QMessageBox.warning(
            self.window, "Could not open the project", message))
        self._call.start()
        return self._call

    def _opened(self, path: Path, project: Project) -> None:
        window = self.window
        window.adopt(project.experiment)
        window.training.set_config(project.config)
        window.training.show_history(project.history)
        window.training.classes = list(project.classes)
        window.state.set_corrections(project.corrections)
        if project.data_folder:
            window.training.form.data_edit.setText(project.data_folder)
            if Path(project.data_folder).is_dir():
                window.dataset.open_folder(project.data_folder)
        self.path = path
        self._remember(path)
        if path.is_dir():  # a run folder: saving asks for a project file
            self.path = None
        window.statusBar().showMessage(f"opened {path}", 5000)

    def export(self, path: str | None = None) -> Path | None:
        if self.window.experiment is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export as Python script",
                                                  "train_export.py", "Python (*.py)")
        if not path:
            return None
        try:
            text = export_script(self.window.experiment, self._config(), Path(path).name)
        except ValueError as exc:
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return None
        try:
            write_text_atomically(path, text)
        except TlguiError as exc:
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return None
        self.window.statusBar().showMessage(f"exported {path}", 5000)
        return Path(path)
