"""The application the screenshot scripts share: offscreen unless a display is set, garbage
collected on the GUI thread, and Qt settings in a fresh folder (a fresh layout, not the
user's)."""

import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tlgui.qt.gc_guard import install as install_collector  # noqa: E402


def fresh_app() -> QApplication:
    app = QApplication(sys.argv)
    install_collector(app)
    app.setOrganizationName("tlgui-screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    return app
