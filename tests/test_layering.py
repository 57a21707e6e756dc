import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import tlgui.core
for info in pkgutil.walk_packages(tlgui.core.__path__, "tlgui.core."):
    importlib.import_module(info.name)
QT = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "superqt", "qtpy")
qt = sorted(m for m in sys.modules if m.split(".")[0] in QT)
print(",".join(qt) or "none")
"""


def test_core_never_imports_qt():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none", f"tlgui.core pulled in Qt modules: {out.stdout}"


def test_the_check_would_see_qt():
    probe = CHECK.replace("import tlgui.core\n", "import tlgui.core, tlgui.qt.model.layer_model\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "PySide6" in out.stdout


def test_signal_emit_keeps_bool_reference_counts():
    """PySide6 6.12.0 drops a reference to True on every emit (Python 3.11), which crashes
    the app after a few thousand signals; pyproject excludes it and this test guards it."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ping = Signal(str)

    emitter = Emitter()
    emitter.ping.connect(lambda _text: None)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.ping.emit("x")
    assert sys.getrefcount(True) >= before - 5
