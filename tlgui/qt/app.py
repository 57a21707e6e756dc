"""Starting the Qt application."""

import sys

from PySide6.QtWidgets import QApplication

from tlgui.qt.main_window import MainWindow
from tlgui.qt.platform_check import display_problem


def run_app(model: str = "default") -> int:
    """Open the main window on ``model`` and run the event loop until it closes."""
    problem = display_problem()
    if problem:
        print(f"tlgui: cannot open a window: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("tlgui")
    app.setOrganizationName("tlgui")
    window = MainWindow()
    window.show()
    window.open_model(model)
    return app.exec()
