"""Starting the Qt application: a splash at once, then the window (PyTorch takes seconds to
import), then the model loads on a worker thread."""

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

from tlgui.qt.interpreter import install as set_up_interpreter
from tlgui.qt.platform_check import display_problem


def _splash() -> QSplashScreen:
    pixmap = QPixmap(420, 140)
    pixmap.fill(QColor("#1f3b57"))
    splash = QSplashScreen(pixmap)
    splash.showMessage("tlgui\nloading PyTorch …",
                       Qt.AlignmentFlag.AlignCenter, QColor("white"))
    splash.show()
    return splash


def run_app(model: str = "default") -> int:
    """Open the main window on ``model`` and run the event loop until it closes."""
    problem = display_problem()
    if problem:
        print(f"tlgui: cannot open a window: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("tlgui")
    app.setOrganizationName("tlgui")
    set_up_interpreter(app)
    splash = _splash()
    app.processEvents()
    from tlgui.qt.main_window import MainWindow  # imports torch: the slow part

    window = MainWindow()
    window.show()
    splash.finish(window)
    window.open_model(model)
    return app.exec()
