"""The dataset browser: thumbnails with labels, filters, class counts, bad files, and what
the training and eval transforms do to an image."""

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.data.corrections import Corrections
from tlgui.core.data.data_index import DataIndex, index_folder
from tlgui.core.data.image_check import conversion_notes, find_bad_files
from tlgui.qt.data.augment_preview import AugmentPreview, ImageDialog
from tlgui.qt.data.image_list_model import ImageListModel, PathRole
from tlgui.qt.data.thumbnails import THUMB_SIZE, ThumbnailLoader
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import across

SPLIT_COLOURS = {"train": "#1f77b4", "valid": "#d62728", "test": "#2ca02c"}


def corrected_note(index: DataIndex) -> str:
    """`` · 2 relabelled, 1 excluded (your corrections)`` for a corrected index, else ""."""
    counts = Corrections.from_dict(index.corrected).counts()
    parts = [f"{counts[a]} {word}" for a, word in (("relabel", "relabelled"),
                                                   ("exclude", "excluded")) if counts[a]]
    return f" · {', '.join(parts)} (your corrections)" if parts else ""


class DatasetPanel(QWidget):
    """``open_folder(path)`` indexes on a worker thread; ``index_ready`` fires when done."""

    index_ready = Signal(object)
    bad_files_ready = Signal(dict)

    def __init__(self, transforms: Callable[[], tuple] | None = None,
                 thumbnail_dir: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.index: DataIndex | None = None  # the folder as it is
        self.shown: DataIndex | None = None  # as shown: with the user's corrections
        self.bad_files: dict[str, str] = {}
        self.only: set[str] | None = None  # a group picked elsewhere (the Map dock's lasso)
        self._calls: list[BackgroundCall] = []
        self.loader = ThumbnailLoader(cache_dir=thumbnail_dir, parent=self)
        self.model = ImageListModel(self.loader, self)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("image folder: train/ and val/, or one folder per class")
        self.folder.returnPressed.connect(lambda: self.open_folder(self.folder.text()))
        browse = QPushButton("Open folder…")
        browse.clicked.connect(self._browse)
        self.split = QComboBox()
        self.class_box = QComboBox()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search file names")
        for widget in (self.split, self.class_box):
            widget.currentIndexChanged.connect(self._filter)
        self.search.textChanged.connect(self._filter)
        self.summary = QLabel("No folder open")
        self.show_all = QPushButton("Show all")
        self.show_all.setVisible(False)
        self.show_all.clicked.connect(lambda: self.show_only(None))
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.setGridSize(QSize(THUMB_SIZE + 24, THUMB_SIZE + 34))
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setBatchSize(500)
        self.grid.setModel(self.model)
        self.grid.doubleClicked.connect(self._show_large)
        self.grid.selectionModel().currentChanged.connect(self._preview_current)
        self.chart = pg.PlotWidget(title="Images per class")
        self.chart.setBackground("w")
        self.chart.setMinimumHeight(160)
        self.bad_list = QListWidget()
        self.preview = AugmentPreview(transforms)
        top = QHBoxLayout()
        for widget in (self.folder, browse, QLabel("Split"), self.split, QLabel("Class"),
                       self.class_box, self.search):
            top.addWidget(widget, stretch=1 if widget in (self.folder, self.search) else 0)
        side = QTabWidget()
        side.addTab(self.chart, "Classes")
        side.addTab(self.bad_list, "Bad files")
        preview_area = QScrollArea()  # keeps the panel's minimum height small
        preview_area.setWidget(self.preview)
        preview_area.setWidgetResizable(True)
        side.addTab(preview_area, "Augmentation")
        splitter = across(self.grid, side, stretch=(3, 2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        summary = QHBoxLayout()
        summary.addWidget(self.summary, stretch=1)
        summary.addWidget(self.show_all)
        layout.addLayout(summary)
        layout.addWidget(splitter, stretch=1)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Image folder", self.folder.text())
        if folder:
            self.open_folder(folder)

    def _start(self, fn, on_done) -> BackgroundCall:
        call = BackgroundCall(fn, self)
        call.done.connect(on_done)
        call.failed.connect(lambda message: self.summary.setText(f"Cannot open: {message}"))
        self._calls.append(call)
        call.start()
        return call

    def open_folder(self, folder: str) -> BackgroundCall:
        self.folder.setText(folder)
        self.summary.setText(f"Indexing {folder} …")
        return self._start(lambda: index_folder(folder), self._show_index)

    def show_index(self, index: DataIndex) -> None:
        """Show ``index`` (opened elsewhere, e.g. re-split for a run) unless shown already."""
        if index is not self.index:
            self._show_index(index)

    def show_corrected(self, index: DataIndex | None) -> None:
        """Show the open folder as the user's corrections leave it (relabelled files under
        their new class, excluded ones gone); their files are untouched."""
        if index is not None and self.index is not None and index.root == self.index.root:
            self._display(index)

    def _display(self, index: DataIndex) -> None:
        self.shown = index
        self.model.set_index(index)
        for box, items in ((self.split, list(index.splits)), (self.class_box, index.classes)):
            box.blockSignals(True)
            current = box.currentText()
            box.clear()
            box.addItems(["all", *items])
            box.setCurrentText(current)
            box.blockSignals(False)
        counts = index.counts()
        parts = [f"{split} {sum(c.values()):,}" for split, c in counts.items()]
        warn = f" · {len(index.warnings)} warnings: " + "; ".join(index.warnings) \
            if index.warnings else ""
        self.summary.setText(f"{len(index.classes)} classes · {' · '.join(parts)}"
                             f"{corrected_note(index)}{warn}")
        self._draw_chart(counts)
        self._filter()

    def _show_index(self, index: DataIndex) -> None:
        self.index = index
        self.only = None
        self.show_all.setVisible(False)
        self._display(index)
        self.bad_list.clear()
        self.bad_list.addItem("checking files…")
        files = [p for samples in index.splits.values() for p, _ in samples]
        self._start(lambda: (find_bad_files(files), conversion_notes(files)), self._show_bad)
        self.index_ready.emit(index)

    def _draw_chart(self, counts: dict[str, dict[str, int]]) -> None:
        self.chart.clear()
        legend = self.chart.addLegend(offset=(-10, 10))
        classes = self.index.classes
        width = 0.8 / max(len(counts), 1)
        for i, (split, per_class) in enumerate(counts.items()):
            xs = [c + i * width - 0.4 + width / 2 for c in range(len(classes))]
            bars = pg.BarGraphItem(x=xs, height=[per_class[c] for c in classes], width=width,
                                   brush=SPLIT_COLOURS.get(split, "#888"))
            self.chart.addItem(bars)
            legend.addItem(bars, split)
        self.chart.getAxis("left").enableAutoSIPrefix(False)
        axis = self.chart.getAxis("bottom")
        axis.setTicks([list(enumerate(classes))])

    def _show_bad(self, found: tuple[dict, dict]) -> None:
        bad, notes = found
        self.bad_files = {str(p): reason for p, reason in bad.items()}
        self.bad_list.clear()
        for path, reason in self.bad_files.items():
            self.bad_list.addItem(f"{path}: {reason}")
        if not self.bad_files:
            self.bad_list.addItem("no bad files found")
        for path, note in notes.items():
            if str(path) not in self.bad_files:
                self.bad_list.addItem(f"{path}: {note} (used)")
        self.bad_files_ready.emit(self.bad_files)

    def show_only(self, paths: list[str] | None) -> None:
        """Show only these images (a group picked on the map), or all again with None."""
        self.only = set(paths) if paths is not None else None
        self.show_all.setVisible(paths is not None)
        self.show_all.setText(f"Show all (showing {len(paths):,} picked)" if paths else "Show all")
        self._filter()

    def _filter(self, *_args) -> None:
        split = self.split.currentText()
        class_name = self.class_box.currentText()
        self.model.set_filter("" if split == "all" else split,
                              "" if class_name == "all" else class_name, self.search.text(),
                              self.only)

    def _show_large(self, index) -> None:
        path, label, split = self.model.sample(index.row())
        ImageDialog(path, f"{self.shown.classes[label]} ({split})", self).open()

    def _preview_current(self, current, _previous) -> None:
        if current.isValid():
            self.preview.show_image(current.data(PathRole))

    def shutdown(self) -> None:
        self.loader.shutdown()
        for call in self._calls:
            call.wait()

