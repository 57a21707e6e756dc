"""The application the screenshot scripts share: offscreen unless a display is set, garbage
collected on the GUI thread, and Qt settings in a fresh folder (a fresh layout, not the
user's)."""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tlgui.qt.interpreter import install as set_up_interpreter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "hymenoptera"


def fresh_app() -> QApplication:
    app = QApplication(sys.argv)
    set_up_interpreter(app)
    app.setOrganizationName("tlgui-screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    return app


def shown_window(parser: argparse.ArgumentParser, width: int, height: int, data: bool = False):
    """Parse the scripts' common ``--out`` and ``--epochs`` (and ``--data``, the ants/bees
    set or the demo data, when asked), then the app and its main window shown at ``width``
    x ``height``: (args, app, window)."""
    from tlgui.qt.main_window import MainWindow

    if data:
        parser.add_argument("--data", type=Path, default=SHARED if SHARED.is_dir() else
                            ROOT / "tlgui" / "demo_data")
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = fresh_app()
    window = MainWindow()
    window.fit_to(width, height)
    window.show()
    return args, app, window


def train_then(window, data: Path, epochs: int, then) -> None:
    """Open the offline default, freeze its body, open ``data``, train for ``epochs``, then
    call ``then(info)`` once the run has finished."""
    from PySide6.QtCore import QTimer

    training = window.training

    def finished(info: dict) -> None:
        training.run_finished.disconnect(finished)
        then(info)

    def loaded(*_args) -> None:
        window.head_only_action.trigger()
        training.form.epochs.setValue(epochs)
        training.run_finished.connect(finished)
        window.dataset.index_ready.connect(
            lambda index: Path(index.root) == data and QTimer.singleShot(100, training.start))
        window.dataset.open_folder(str(data))

    window.open_model("default").done.connect(lambda *_: QTimer.singleShot(100, loaded))
