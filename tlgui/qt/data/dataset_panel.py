"""The dataset browser: thumbnails with labels, filters, class counts, bad files, and what
the training and eval transforms do to an image.

A folder streams in: the scan runs on a worker thread and its files show as they are found
(counts and chart following), in the file system's order until the scan ends and the sorted
index replaces them. File headers are then checked in the background, with a Stop. Filters
over more than ``FILTER_IN_PLACE`` files run on a worker thread.
"""

from collections.abc import Callable
from itertools import chain
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSize, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.data.corrections import Corrections
from tlgui.core.data.data_index import DataIndex, index_folder
from tlgui.core.data.image_check import FileCheck, check_files
from tlgui.core.data.listing import Listing
from tlgui.core.data.samples import path_strings
from tlgui.core.train.train_events import StopToken
from tlgui.qt.data.augment_preview import AugmentPreview, ImageDialog
from tlgui.qt.data.bad_files import BadFilesView
from tlgui.qt.data.image_list_model import NOT_SPLIT, ImageListModel
from tlgui.qt.data.thumbnail_grid import ThumbnailGrid
from tlgui.qt.data.thumbnails import THUMB_SIZE, ThumbnailLoader
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import across

SPLIT_COLOURS = {"train": "#1f77b4", "valid": "#d62728", "test": "#2ca02c"}
FILTER_IN_PLACE = 100_000  # files a filter runs through on the GUI thread (a few ms)
SCAN_REFRESH_MS = 250  # counts, chart and filter boxes follow a scan this often


class _Relay(QObject):
    """Carries a worker's news to the GUI thread: (job number, what)."""

    found = Signal(int, object)  # (classes, split, label, folder, names) of a scan
    checked = Signal(int, int, int)  # files checked, of total


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
        self._jobs = {"scan": 0, "check": 0, "filter": 0}  # the newest of each kind
        self._stops = {"scan": StopToken(), "check": StopToken()}
        self._relay = _Relay(self)
        self._relay.found.connect(self._found)
        self._relay.checked.connect(self._checked)
        self._refresh = QTimer(self, singleShot=True, interval=SCAN_REFRESH_MS)
        self._refresh.timeout.connect(self._scan_progress)
        self._typing = QTimer(self, singleShot=True, interval=150)
        self._typing.timeout.connect(self._filter)
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
        self.search.textChanged.connect(self._text_changed)
        self.summary = QLabel("No folder open")
        self.show_all = QPushButton("Show all")
        self.show_all.setVisible(False)
        self.show_all.clicked.connect(lambda: self.show_only(None))
        self.grid = ThumbnailGrid(self.model, QSize(THUMB_SIZE + 24, THUMB_SIZE + 34),
                                  QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.activated_row.connect(self._show_large)
        self.grid.current_changed.connect(self._preview_current)
        self.chart = pg.PlotWidget(title="Images per class")
        self.chart.setBackground("w")
        self.chart.setMinimumHeight(160)
        self.bad_view = BadFilesView()
        self.bad_view.stop.clicked.connect(lambda: self._stops["check"].stop())
        self.bad_list = self.bad_view.list
        self.preview = AugmentPreview(transforms)
        top = QHBoxLayout()
        for widget in (self.folder, browse, QLabel("Split"), self.split, QLabel("Class"),
                       self.class_box, self.search):
            top.addWidget(widget, stretch=1 if widget in (self.folder, self.search) else 0)
        side = self.side = QTabWidget()
        side.addTab(self.chart, "Classes")
        side.addTab(self.bad_view, "Bad files")
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

    def _start(self, fn, on_done, on_failed=None) -> BackgroundCall:
        call = BackgroundCall(fn, self)
        call.done.connect(on_done)
        call.failed.connect(on_failed or (lambda message: self.summary.setText(
            f"Cannot open: {message}")))
        for signal in (call.done, call.failed):
            signal.connect(lambda *_a, c=call: self._forget(c))
        self._calls.append(call)
        call.start()
        return call

    def _forget(self, call: BackgroundCall) -> None:
        if call in self._calls:
            self._calls.remove(call)
            call.deleteLater()

    def _job(self, kind: str) -> tuple[int, StopToken | None]:
        """A new job of ``kind``: its number, and a fresh stop (the last one is stopped)."""
        self._jobs[kind] += 1
        stop = None
        if kind in self._stops:
            self._stops[kind].stop()
            stop = self._stops[kind] = StopToken()
        return self._jobs[kind], stop

    def open_folder(self, folder: str) -> BackgroundCall:
        """Index ``folder`` on a worker thread, showing its files as they are found."""
        self.folder.setText(folder)
        self.summary.setText(f"Indexing {folder} …")
        number, stop = self._job("scan")
        self._stops["check"].stop()
        self.model.set_listing(Listing([]))

        def scan() -> tuple[int, DataIndex, Listing]:
            index = index_folder(folder, should_stop=lambda: stop.stopped,
                                 found=lambda *batch: self._relay.found.emit(number, batch))
            return number, index, Listing.of_index(index)

        def failed(message: str) -> None:
            if number == self._jobs["scan"]:
                self.summary.setText(f"Cannot open: {message}")

        return self._start(scan, self._scanned, failed)

    def _found(self, number: int, batch: tuple) -> None:
        if number != self._jobs["scan"]:
            return
        classes, split, label, folder, names = batch
        self.model.listing.classes = classes
        self.model.add(split, label, folder, names)
        if not self._refresh.isActive():
            self._refresh.start()

    def _scan_progress(self) -> None:
        """Counts, chart and filter boxes of what the scan has found so far."""
        listing = self.model.listing
        self._set_boxes([s for s in listing.split_names if s], listing.classes)
        counts = listing.counts()
        self.summary.setText(f"Scanning … {len(listing):,} files so far · "
                             + " · ".join(f"{s or NOT_SPLIT} {sum(c.values()):,}"
                                          for s, c in counts.items()))
        self._draw_chart(counts, listing.classes)
        if self.model.filtered:
            self._filter()

    def _scanned(self, scanned: tuple[int, DataIndex, Listing]) -> None:
        number, index, listing = scanned
        if number == self._jobs["scan"]:
            self._show_index(index, listing)

    def show_index(self, index: DataIndex) -> None:
        """Show ``index`` (opened elsewhere, e.g. re-split for a run) unless shown already."""
        if index is not self.index:
            self._job("scan")  # a scan still running is no longer what is shown
            self._show_index(index)

    def show_corrected(self, index: DataIndex | None) -> None:
        """Show the open folder as the user's corrections leave it (relabelled files under
        their new class, excluded ones gone); their files are untouched."""
        if index is not None and self.index is not None and index.root == self.index.root \
                and index is not self.shown:
            self._display(index)

    def _set_boxes(self, splits: list[str], classes: list[str]) -> None:
        for box, items in ((self.split, splits), (self.class_box, classes)):
            if [box.itemText(i) for i in range(1, box.count())] == items:
                continue
            box.blockSignals(True)
            current = box.currentText()
            box.clear()
            box.addItems(["all", *items])
            box.setCurrentText(current)
            box.blockSignals(False)

    def _display(self, index: DataIndex, listing: Listing | None = None) -> None:
        self.shown = index
        self.model.set_listing(listing or Listing.of_index(index))
        self._set_boxes(list(index.splits), index.classes)
        counts = index.counts()
        parts = [f"{split} {sum(c.values()):,}" for split, c in counts.items()]
        warn = f" · {len(index.warnings)} warnings: " + "; ".join(index.warnings) \
            if index.warnings else ""
        self.summary.setText(f"{len(index.classes)} classes · {' · '.join(parts)}"
                             f"{corrected_note(index)}{warn}")
        self._draw_chart(counts, index.classes)
        self._filter()

    def _show_index(self, index: DataIndex, listing: Listing | None = None) -> None:
        self.index = index
        self.only = None
        self.show_all.setVisible(False)
        self._refresh.stop()
        self._display(index, listing)
        self._check_files(index)
        self.index_ready.emit(index)

    def _check_files(self, index: DataIndex) -> None:
        """File headers checked on a worker thread, with progress and a Stop."""
        number, stop = self._job("check")
        total = sum(len(s) for s in index.splits.values())
        self.bad_view.checking(0, total)

        def check() -> tuple[int, DataIndex, FileCheck]:
            paths = chain.from_iterable(map(path_strings, index.splits.values()))
            return number, index, check_files(
                paths, total=total, should_stop=lambda: stop.stopped,
                progress=lambda done, of: self._relay.checked.emit(number, done, of))

        self._start(check, self._show_bad, self.bad_view.status.setText)

    def _checked(self, number: int, done: int, total: int) -> None:
        if number == self._jobs["check"]:
            self.bad_view.checking(done, total)

    def _draw_chart(self, counts: dict, classes: list[str]) -> None:
        self.chart.clear()
        legend = self.chart.addLegend(offset=(-10, 10))
        width = 0.8 / max(len(counts), 1)
        for i, (split, per_class) in enumerate(counts.items()):
            xs = [c + i * width - 0.4 + width / 2 for c in range(len(classes))]
            bars = pg.BarGraphItem(x=xs, height=[per_class[c] for c in classes], width=width,
                                   brush=SPLIT_COLOURS.get(split, "#888"))
            self.chart.addItem(bars)
            legend.addItem(bars, split or NOT_SPLIT)
        self.chart.getAxis("left").enableAutoSIPrefix(False)
        axis = self.chart.getAxis("bottom")
        axis.setTicks([list(enumerate(classes))])

    def _show_bad(self, checked: tuple[int, DataIndex, FileCheck]) -> None:
        number, index, found = checked
        if number != self._jobs["check"]:
            return
        self.bad_files = {str(p): reason for p, reason in found.bad.items()}
        if found.checked == found.total:  # every file: training need not check again
            index.bad_files = self.bad_files
        self.bad_view.show_found(found)
        self.bad_files_ready.emit(self.bad_files)

    def show_only(self, paths: list[str] | None) -> None:
        """Show only these images (a group picked on the map), or all again with None."""
        self.only = set(paths) if paths is not None else None
        self.show_all.setVisible(paths is not None)
        self.show_all.setText(f"Show all (showing {len(paths):,} picked)" if paths else "Show all")
        self._filter()

    def _text_changed(self, _text: str) -> None:
        if len(self.model.listing) > FILTER_IN_PLACE:
            self._typing.start()  # a pause in typing, then one filter
        else:
            self._filter()

    def _filter(self, *_args) -> None:
        split = self.split.currentText()
        choice = ("" if split == "all" else split,
                  "" if self.class_box.currentText() == "all" else self.class_box.currentText(),
                  self.search.text(), self.only)
        listing = self.model.listing
        number, _ = self._job("filter")
        if not any(choice[:3]) and choice[3] is None:
            if self.model.filtered:
                self.model.show_rows(None)
            return
        if len(listing) <= FILTER_IN_PLACE:
            self.model.show_rows(listing.select(*choice))
            return
        files = len(listing)

        def shown(rows) -> None:
            if number == self._jobs["filter"] and listing is self.model.listing:
                self.model.show_rows(rows)

        self._start(lambda: listing.select(*choice, files=files), shown)

    def _show_large(self, row: int) -> None:
        path, label, split = self.model.sample(row)
        ImageDialog(path, f"{self.shown.classes[label]} ({split})", self).open()

    def _preview_current(self, row: int) -> None:
        if row >= 0:
            self.preview.show_image(self.model.sample(row)[0])

    def shutdown(self) -> None:
        for stop in self._stops.values():
            stop.stop()
        self.loader.shutdown()
        for call in self._calls:
            call.wait()

