"""File → Export as ONNX / TorchScript: the current model, runnable without tlgui."""

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from tlgui.core.errors import TlguiError
from tlgui.core.inference.export_formats import SUFFIXES, export_model
from tlgui.qt.actions import make_action
from tlgui.qt.widgets.background import BackgroundCall

TITLES = {"onnx": ("Export as &ONNX…", "ONNX (*.onnx)"),
          "torchscript": ("Export as &TorchScript…", "TorchScript (*.pt)")}


class ExportActions:
    """Adds the export entries to ``menu``; the window gives the model (``current_model``)."""

    def __init__(self, window: QWidget, menu: QMenu) -> None:
        self.window = window
        self._call: BackgroundCall | None = None
        self.actions: dict[str, QAction] = {}
        for fmt, (text, _) in TITLES.items():
            action = make_action(window, text, lambda f=fmt: self.export(f))
            menu.addAction(action)
            self.actions[fmt] = action

    def export(self, fmt: str, path: str | None = None) -> BackgroundCall | None:
        """Export on a worker thread (ONNX export takes seconds); the status bar says where."""
        try:
            loaded = self.window.current_model()
        except TlguiError as exc:
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, TITLES[fmt][0].replace("&", ""),
                                                  f"model{SUFFIXES[fmt]}", TITLES[fmt][1])
        if not path:
            return None
        self.window.statusBar().showMessage(f"exporting {fmt} to {path} …")
        self._call = BackgroundCall(lambda: export_model(loaded, fmt, path), self.window)
        self._call.done.connect(lambda files: self.window.statusBar().showMessage(
            "exported " + ", ".join(str(Path(f)) for f in files), 10_000))
        self._call.failed.connect(lambda text: QMessageBox.warning(self.window, "Cannot export",
                                                                   text))
        self._call.start()
        return self._call
