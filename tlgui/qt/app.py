"""Starting the Qt application."""

import sys

from PySide6.QtWidgets import QApplication

from tlgui.qt.main_window import MainWindow


def run_app(model: str = "default") -> int:
    """Open the main window on ``model`` and run the event loop until it closes."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("tlgui")
    app.setOrganizationName("tlgui")
    window = MainWindow()
    window.show()
    window.open_model(model)
    return app.exec()
