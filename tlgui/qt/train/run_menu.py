"""The Run menu and toolbar: Start, Stop, Resume, Find learning rate and Evaluate, with
shortcuts that work anywhere in the window (the actions belong to the window, not a dock)."""

from PySide6.QtWidgets import QMainWindow, QToolBar

from tlgui.qt.actions import make_action


class RunMenu:
    def __init__(self, window: QMainWindow) -> None:
        training, results = window.training, window.results
        self.training = training
        self.start = make_action(window, "&Start training", training.start, "Ctrl+Return",
                                 "Ctrl+Enter")
        self.stop = make_action(window, "S&top", training.stop, "Ctrl+.")
        self.resume = make_action(window, "&Resume stopped run", training.resume,
                                  "Ctrl+Shift+Return")
        self.find_lr = make_action(window, "&Find learning rate…", training.find_lr, "Ctrl+L")
        self.evaluate = make_action(window, "&Evaluate", results.evaluate, "Ctrl+Shift+E")
        menu = window.menuBar().addMenu("&Run")
        toolbar = QToolBar("Run", window)
        toolbar.setObjectName("run-toolbar")
        first = next((t for t in window.findChildren(QToolBar) if t is not toolbar), None)
        if first is None:
            window.addToolBar(toolbar)
        else:  # the main actions first: a narrow window hides the last toolbar's end
            window.insertToolBar(first, toolbar)
        for action in self.actions():
            action.setToolTip(f"{action.text().replace('&', '')} "
                              f"({action.shortcut().toString()})")
            menu.addAction(action)
            toolbar.addAction(action)
        training.model_busy.connect(lambda _busy: self.update())
        self.update()

    def actions(self) -> tuple:
        return self.start, self.stop, self.resume, self.find_lr, self.evaluate

    def update(self) -> None:
        """Enable what can be done now."""
        busy, running = self.training.is_busy(), self.training.is_running()
        self.start.setEnabled(not busy)
        self.stop.setEnabled(running)
        self.resume.setEnabled(not busy and self.training.can_resume())
        self.find_lr.setEnabled(not busy)
        self.evaluate.setEnabled(not busy)
