"""File menu entries for run folders: open one, follow one that another process writes, and
export the current model as a folder that trains elsewhere (with its command lines)."""

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from tlgui.core.config import TrainConfig
from tlgui.core.errors import TlguiError
from tlgui.core.runs.record import export_plan
from tlgui.qt.actions import make_action
from tlgui.qt.train.run_follower import RunFollower


class RunActions:
    def __init__(self, window: QWidget, menu: QMenu) -> None:
        self.window = window
        self.follower = RunFollower(window.training, window)
        self.follower.finished.connect(self._followed_to_the_end)
        self.actions: dict[str, QAction] = {}
        for text, slot in (("Open &run folder…", self.choose_run),
                           ("&Follow run…", self.choose_follow),
                           ("Export run &folder…", self.choose_export)):
            action = make_action(window, text, slot)
            menu.addAction(action)
            self.actions[text.replace("&", "").rstrip("…")] = action

    def _folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self.window, title)

    def choose_run(self) -> None:
        folder = self._folder("Open a run folder (tlgui train --out, or a comparison cell)")
        if folder:
            self.window.projects.open(folder)

    def choose_follow(self) -> None:
        folder = self._folder("Follow a run folder another process writes")
        if folder:
            self.follow(folder)

    def follow(self, folder: str | Path) -> RunFollower:
        if self.window.training.is_running():
            raise TlguiError("the app is training; follow another run when it has finished")
        self.follower.follow(folder)
        return self.follower

    def _followed_to_the_end(self, event: dict) -> None:
        verdict = self.follower.integrity
        text = (f"followed run ended after {event['epochs']} epochs"
                + (f", integrity {'PASS' if verdict['passed'] else 'FAIL'}" if verdict else "")
                + "; File → Open run folder loads its weights")
        self.window.statusBar().showMessage(text, 20_000)
        self.window.log_message(text)

    def choose_export(self) -> None:
        folder = self._folder("Folder to export the run to")
        if folder:
            self.export(folder)

    def export(self, folder: str | Path) -> list[str] | None:
        window = self.window
        if window.experiment is None:
            QMessageBox.warning(window, "Cannot export", "Open a model first.")
            return None
        try:
            config = window.training.form.config()
        except TlguiError:
            config = TrainConfig()
        commands = export_plan(folder, window.experiment, config,
                               window.training.form.data_folder() or "DATA")
        window.log_message("exported for training elsewhere:\n" + "\n".join(commands))
        window.statusBar().showMessage(f"exported {folder}: see COMMANDS.txt", 10_000)
        return commands
