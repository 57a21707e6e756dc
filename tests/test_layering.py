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


# Lower layers first; a package may import only packages of a lower layer (see
# docs/ARCHITECTURE.md), so no two core packages can import each other.
LAYERS = {"errors": 0, "files": 1, "config": 1, "data": 2, "validate": 3, "model": 4,
          "train": 5, "runs": 6, "inference": 6, "cleaning": 6, "project": 7, "state": 8}


def core_imports() -> dict[tuple[str, str], str]:
    """(importing package, imported package) -> one file that does it, over tlgui/core."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "tlgui" / "core"
    edges = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        package = parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tlgui.core."):
                target = node.module.split(".")[2]
                if target != package:
                    edges.setdefault((package, target), str(path.relative_to(root)))
    return edges


def test_core_packages_import_only_lower_layers():
    edges = core_imports()
    assert ("train", "model") in edges  # the scan sees real imports
    unknown = {p for edge in edges for p in edge} - set(LAYERS)
    assert not unknown, f"packages without a layer in LAYERS: {unknown}"
    upward = [f"{where}: {a} imports {b}" for (a, b), where in edges.items()
              if LAYERS[b] >= LAYERS[a]]
    assert not upward, "imports that go up or sideways:\n" + "\n".join(upward)
