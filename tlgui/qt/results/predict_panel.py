"""The Predict dock: drop images or a folder, see the current model's top-k classes with
probability bars, open a row's explanation, save them as CSV."""

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.data.data_index import image_paths
from tlgui.core.errors import TlguiError
from tlgui.core.inference.predict import predict_files, write_csv
from tlgui.core.model.loaded import LoadedModel
from tlgui.qt.results.explain_dialog import ExplainDialog, show_explanation
from tlgui.qt.results.results_panel import thumbnail
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import EmptyState

ICON = 48
BAR_STYLE = ("QProgressBar { text-align: left; padding-left: 6px; color: black; border: none; }"
             " QProgressBar::chunk { background: #9ecae1; }")


class PredictPanel(QWidget):
    predicted = Signal(list)
    message = Signal(str)

    def __init__(self, source: Callable[[], LoadedModel] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.results: list[dict] = []
        self._call: BackgroundCall | None = None
        self.setAcceptDrops(True)
        add = QPushButton("Add images…")
        add.clicked.connect(self._choose_files)
        folder = QPushButton("Add folder…")
        folder.clicked.connect(self._choose_folder)
        self.topk = QSpinBox(minimum=1, maximum=20, value=3)
        self.tta = QCheckBox("average with the mirror image (TTA)")
        self.save_button = QPushButton("Save CSV…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_csv())
        self.status = QLabel("")
        row = QHBoxLayout()
        for widget in (add, folder, QLabel("top"), self.topk, self.tta, self.save_button):
            row.addWidget(widget)
        row.addWidget(self.status, stretch=1)
        self.table = QTableWidget(0, 2)
        self.table.setIconSize(self.table.iconSize().scaled(ICON, ICON,
                                                            Qt.AspectRatioMode.IgnoreAspectRatio))
        self.table.verticalHeader().setDefaultSectionSize(ICON + 6)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setToolTip("double-click or Enter: why the model said it (Grad-CAM)")
        self.table.cellActivated.connect(lambda row, _col: self.explain(row))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        self.views = EmptyState(self.table, "Nothing classified yet. Add images or a folder "
                                "(or drop them here): each gets the model's top guesses; "
                                "double-click one to see why.")
        layout.addWidget(self.views, stretch=1)

    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Images to classify", "",
                                                "Images (*.jpg *.jpeg *.png *.bmp *.gif *.webp)")
        if names:
            self.predict(names)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images to classify")
        if folder:
            self.predict([folder])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.predict(paths)

    def predict(self, items: list[str]) -> BackgroundCall | None:
        """Classify files and folders on a worker thread with the current model."""
        if self.source is None or (self._call is not None and self._call.running):
            return None
        try:
            loaded = self.source()
        except TlguiError as exc:
            self.status.setText(str(exc))
            return None
        paths = image_paths(items)
        if not paths:
            self.status.setText("No image files there.")
            return None
        topk, tta = self.topk.value(), self.tta.isChecked()
        self.status.setText(f"Classifying {len(paths)} images …")
        self._call = BackgroundCall(lambda: predict_files(loaded, paths, topk, tta), self)
        self._call.done.connect(self.show_results)
        self._call.failed.connect(lambda text: self.status.setText(f"Cannot predict: {text}"))
        self._call.start()
        return self._call

    def show_results(self, results: list[dict]) -> None:
        self.results = results
        k = max((len(r.get("top", [])) for r in results), default=1)
        self.views.show_content()
        self.table.clear()
        self.table.setColumnCount(1 + k)
        self.table.setHorizontalHeaderLabels(["image", *[f"#{i + 1}" for i in range(k)]])
        self.table.setRowCount(len(results))
        for row, result in enumerate(results):
            item = QTableWidgetItem(QIcon(thumbnail(result["image"], ICON)),
                                    Path(result["image"]).name)
            item.setToolTip(result.get("error", result["image"]))
            self.table.setItem(row, 0, item)
            if "error" in result:
                self.table.setItem(row, 1, QTableWidgetItem(result["error"]))
            for col, rank in enumerate(result.get("top", []), start=1):
                bar = QProgressBar()
                bar.setRange(0, 1000)
                bar.setValue(round(rank["probability"] * 1000))
                bar.setFormat(f"{rank['label']}  {rank['probability']:.1%}")
                bar.setStyleSheet(BAR_STYLE)
                self.table.setCellWidget(row, col, bar)
        self.table.resizeColumnToContents(0)
        for col in range(1, k + 1):
            self.table.setColumnWidth(col, 180)
        failed = sum("error" in r for r in results)
        self.status.setText(f"{len(results)} images" + (f", {failed} unreadable" if failed else ""))
        self.save_button.setEnabled(bool(results))
        self.predicted.emit(results)

    def explain(self, row: int) -> ExplainDialog | None:
        """Open the explanation of a result row's image."""
        if self.source is None or not 0 <= row < len(self.results):
            return None
        result = self.results[row]
        top = result.get("top", [{}])[0]
        title = (f"{top['label']} {top['probability']:.1%}" if top else result.get("error", ""))
        return show_explanation(self, self.source, result["image"], title)

    def save_csv(self, path: str | None = None) -> Path | None:
        if not self.results:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save predictions", "predictions.csv",
                                                  "CSV (*.csv)")
        if not path:
            return None
        written = write_csv(self.results, path)
        self.message.emit(f"predictions saved to {written}")
        return written
