"""The Clean dock: check the open data set with the open model's frozen features, review
each finding beside images of its classes or its copies, and decide with the keyboard
(A accept, K keep, X exclude, N/P next/previous, U undo). Decisions are corrections kept
in the app state (and the project, and each run's record), never changes to the files."""

import copy
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.cleaning.report import clean
from tlgui.core.cleaning.review import KINDS, TITLES, Finding, examples, findings
from tlgui.core.data.corrections import write_csv
from tlgui.core.data.data_index import DataIndex, base_folder
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import Experiment, apply
from tlgui.core.state import AppState
from tlgui.core.train.train_events import StopToken
from tlgui.qt.cleaning.retrain import RetrainComparison
from tlgui.qt.cleaning.tiles import TileBoard
from tlgui.qt.data.thumbnails import ThumbnailLoader
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import EmptyState, across

TILE, EXAMPLE_TILE = 150, 88
DONE_WORDS = {"relabel": "relabelled {label}", "exclude": "excluded", "keep": "kept"}


def frozen_job(state: AppState, source: Callable[[], Experiment]) -> tuple[Experiment, DataIndex]:
    """What a check of the features works on: a head-only copy of the open experiment (the
    window's stays as it is) and the open data set as corrected."""
    data = state.corrected_data()
    if data is None:
        raise TlguiError("open a data folder first")
    experiment = copy.deepcopy(source())
    apply(experiment, {"op": "preset", "name": "head-only"})
    return experiment, data


class _Relay(QObject):
    stepped = Signal(str, int, int)


class CleanPanel(QWidget):
    """``source()`` gives the open experiment (or raises TlguiError when there is none or
    it is busy); ``training`` is the Training dock, which retrains with the corrections."""

    checked = Signal(dict)

    def __init__(self, state: AppState, source: Callable[[], Experiment], training,
                 thumbnail_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.source, self.training = state, source, training
        self.report: dict | None = None
        self.items: dict[str, list[Finding]] = {kind: [] for kind in KINDS}
        self.call: BackgroundCall | None = None
        self._stop = StopToken()
        self._relay = _Relay()
        self._relay.stepped.connect(self._stepped)
        self.loader = ThumbnailLoader(cache_dir=thumbnail_dir, parent=self, size=TILE)
        self.check_button = QPushButton("Check data set")
        self.check_button.setToolTip("Find likely label errors, copies and leaks between "
                                     "splits, and outliers, with the open model's features")
        self.check_button.clicked.connect(self.check)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self._stop.stop)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.status = QLabel("")
        self.tabs = QTabWidget()
        self.lists: dict[str, QListWidget] = {}
        for kind in KINDS:
            view = QListWidget()
            view.currentRowChanged.connect(lambda _row: self._show_current())
            self.lists[kind] = view
            self.tabs.addTab(view, TITLES[kind])
        self.tabs.currentChanged.connect(lambda _i: self._show_current())
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.board = TileBoard(self.loader)
        self.buttons = {name: QPushButton(text) for name, text in (
            ("accept", "Accept (A)"), ("keep", "Keep (K)"), ("exclude", "Exclude (X)"),
            ("next", "Next (N)"), ("undo", "Undo (U)"))}
        for name in ("accept", "keep", "exclude"):
            self.buttons[name].clicked.connect(lambda _c=False, n=name: self.decide(n))
        self.buttons["next"].clicked.connect(lambda: self.move(1))
        self.buttons["undo"].clicked.connect(self.undo)
        for key, slot in (("A", lambda: self.decide("accept")), ("K", lambda: self.decide("keep")),
                          ("X", lambda: self.decide("exclude")), ("N", lambda: self.move(1)),
                          ("P", lambda: self.move(-1)), ("U", self.undo)):
            QShortcut(QKeySequence(key), self, slot,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.corrections = QLabel("")
        self.export_button = QPushButton("Export cleaned list…")
        self.export_button.setToolTip("A CSV of path,label,split rows with your corrections, "
                                      "which tlgui train --data reads")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.comparison = RetrainComparison(state, training)
        self.comparison.message.connect(self.status.setText)
        self.empty = EmptyState(self._review_area(), "Press Check data set to look for likely "
                                "label errors, copies, leaks between splits and outliers.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        for widget in (self.check_button, self.stop_button, self.progress):
            top.addWidget(widget)
        top.addWidget(self.status, stretch=1)
        layout.addLayout(top)
        layout.addWidget(self.empty, stretch=1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.corrections, stretch=1)
        for widget in (self.buttons["undo"], self.export_button, self.comparison.button):
            bottom.addWidget(widget)
        layout.addLayout(bottom)
        layout.addWidget(self.comparison.table)
        state.observe("corrections", lambda _c: self._refresh())
        state.observe("data", lambda _d: self._refresh())
        self._refresh()

    def _review_area(self) -> QWidget:
        detail = QWidget()
        column = QVBoxLayout(detail)
        column.setContentsMargins(4, 0, 0, 0)
        column.addWidget(self.title)
        row = QHBoxLayout()
        for name in ("accept", "keep", "exclude", "next"):
            row.addWidget(self.buttons[name])
        row.addStretch(1)
        column.addLayout(row)
        images = QScrollArea()
        images.setWidget(self.board)
        images.setWidgetResizable(True)
        column.addWidget(images, stretch=1)
        return across(self.tabs, detail, stretch=(2, 3))

    def check(self) -> BackgroundCall | None:
        """Run every check on the open data set, as corrected, on a worker thread."""
        if self.call is not None and self.call.running:
            return None
        try:
            experiment, data = frozen_job(self.state, self.source)
        except TlguiError as exc:
            self.status.setText(f"Cannot check: {exc}")
            return None
        self._stop.reset()
        self.check_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(f"Checking {data.root} …")
        relay, stop = self._relay, self._stop
        self.call = BackgroundCall(lambda: clean(
            experiment, data, stop=stop,
            progress=lambda what, done, total: relay.stepped.emit(what, done, total)), self)
        self.call.done.connect(self._checked)
        self.call.failed.connect(self._failed)
        self.call.start()
        return self.call

    def _stepped(self, what: str, done: int, total: int) -> None:
        self.progress.setFormat(f"{what} %v/%m")
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _failed(self, message: str) -> None:
        self.check_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status.setText(f"The check did not finish: {message}")

    def _checked(self, report: dict) -> None:
        self.progress.setFormat("done")
        self.check_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.report, self.items = report, findings(report)
        leaks = sum(d["leak"] for d in report["duplicates"])
        self.status.setText(
            f"{report['settings']['images']:,} images checked in {report['seconds']:.1f} s: "
            f"{len(report['label_issues'])} likely label errors, {len(report['duplicates'])} "
            f"groups of copies ({leaks} leaks), {len(report['outliers'])} outliers")
        self.empty.show_content()
        self._refresh()
        first = next((k for k in KINDS if self.items[k]), KINDS[0])
        self.tabs.setCurrentIndex(KINDS.index(first))
        self.lists[first].setCurrentRow(0)
        self.lists[first].setFocus()
        self.checked.emit(report)

    def current(self) -> Finding | None:
        kind = KINDS[self.tabs.currentIndex()]
        row = self.lists[kind].currentRow()
        return self.items[kind][row] if 0 <= row < len(self.items[kind]) else None

    def _done_text(self, finding: Finding) -> str:
        index = self.state.data
        if index is None:
            return ""
        decisions = [self.state.corrections.decision(index, p) for p in finding.targets(index)]
        found = next((d for d in decisions if d), None)
        return DONE_WORDS[found["action"]].format(label=found.get("label")) if found else ""

    def _refresh(self) -> None:
        base = base_folder(self.state.data) if self.state.data is not None else Path.cwd()
        for kind in KINDS:
            view, rows = self.lists[kind], self.items[kind]
            texts = [(f"✓ {done} · " if (done := self._done_text(f)) else "") + f.text(base)
                     for f in rows]
            if view.count() != len(texts):
                row = view.currentRow()
                view.clear()
                view.addItems(texts)
                view.setCurrentRow(min(row, len(texts) - 1))
            else:
                for i, text in enumerate(texts):
                    view.item(i).setText(text)
            self.tabs.setTabText(KINDS.index(kind), f"{TITLES[kind]} ({len(rows)})")
        counts = self.state.corrections.counts()
        self.corrections.setText(
            f"Your corrections: {counts['relabel']} relabelled, {counts['exclude']} excluded, "
            f"{counts['keep']} kept · your files are unchanged")
        self.buttons["undo"].setEnabled(self.state.corrections.can_undo())
        self._show_current()

    def _show_current(self) -> None:
        finding, index = self.current(), self.state.corrected_data()
        for name in ("accept", "keep", "exclude"):
            self.buttons[name].setEnabled(finding is not None)
        if finding is None or index is None:
            self.title.setText("")
            self.board.show_rows([])
            return
        self.buttons["accept"].setText(f"{finding.accept()[2]} (A)")
        done = self._done_text(finding)
        self.title.setText(f"<b>{finding.title()}</b>" + (f" — {done}" if done else ""))
        splits = {str(p): s for s, samples in index.splits.items() for p, _ in samples}
        shown = finding.paths[:4]
        rows = [("this image:" if len(shown) == 1 else "the copies:",
                 [(p, f"{splits.get(p, 'excluded')}: {Path(p).name}", TILE) for p in shown])]
        rows += [(caption, [(p, "", EXAMPLE_TILE) for p in examples(index, name, shown)])
                 for caption, name in finding.classes_shown(index)]
        self.board.show_rows(rows)

    def decide(self, what: str) -> None:
        """``accept`` the finding's suggestion, ``keep`` it as it is, or ``exclude`` it; one
        undo step; then the next finding without a decision."""
        finding, index = self.current(), self.state.data
        if finding is None or index is None:
            return
        action, label, _text = finding.accept() if what == "accept" else (what, None, "")
        paths = finding.paths if action == "keep" or finding.kind != "duplicates" \
            else finding.targets(index)
        try:
            self.state.corrections.decide(index, paths, action, label)
        except TlguiError as exc:
            self.status.setText(str(exc))
            return
        self.state.corrections_changed()
        self._next_open()

    def _next_open(self) -> None:
        kind = KINDS[self.tabs.currentIndex()]
        start = self.lists[kind].currentRow()
        rows = self.items[kind]
        for row in list(range(start + 1, len(rows))) + list(range(0, start + 1)):
            if not self._done_text(rows[row]):
                self.lists[kind].setCurrentRow(row)
                return
        self.move(1)

    def move(self, step: int) -> None:
        view = self.lists[KINDS[self.tabs.currentIndex()]]
        if view.count():
            view.setCurrentRow(max(0, min(view.currentRow() + step, view.count() - 1)))

    def undo(self) -> None:
        if self.state.corrections.undo():
            self.state.corrections_changed()

    def export_csv(self, path: str | None = None) -> Path | None:
        """The open data set with the corrections, as a CSV ``tlgui train --data`` reads."""
        data = self.state.corrected_data()
        if data is None:
            self.status.setText("Open a data folder first")
            return None
        if path is None:
            suggested = str(Path.home() / f"{Path(data.root).name}-cleaned.csv")
            path, _ = QFileDialog.getSaveFileName(self, "Export cleaned list", suggested,
                                                  "CSV (*.csv)")
            if not path:
                return None
        try:
            written = write_csv(data, path)
        except TlguiError as exc:
            self.status.setText(f"Cannot export: {exc}")
            return None
        self.status.setText(f"Wrote {sum(len(s) for s in data.splits.values()):,} rows to "
                            f"{written}; train on it with tlgui train --data {written}")
        return written

    def shutdown(self) -> None:
        self._stop.stop()
        if self.call is not None:
            self.call.wait()
        self.loader.shutdown()
