"""Retrain with the corrections and show the run before and the run after side by side."""

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton, QTableWidget, QTableWidgetItem

from tlgui.core.data.corrections import Corrections
from tlgui.core.data.data_index import DataIndex
from tlgui.core.state import AppState

ROWS = ("best validation accuracy", "validation images", "training images", "corrections")


def summary(history: list[dict], data: DataIndex | None) -> list[str]:
    """The column of ROWS for a run with ``history`` on ``data``."""
    accuracies = [h["val_accuracy"] for h in history if h.get("val_accuracy") is not None]
    counts = Corrections.from_dict(data.corrected).counts() if data is not None else {}
    return [f"{100 * max(accuracies):.1f} %" if accuracies else "–",
            f"{len(data.splits.get('valid', [])):,}" if data is not None else "–",
            f"{len(data.splits.get('train', [])):,}" if data is not None else "–",
            f"{counts.get('relabel', 0)} relabelled, {counts.get('exclude', 0)} excluded"
            if data is not None else "–"]


class RetrainComparison(QObject):
    """``button`` starts a run on the corrected data; ``table`` shows the last run before
    it and the run itself side by side when it ends."""

    message = Signal(str)

    def __init__(self, state: AppState, training) -> None:
        super().__init__()
        self.state, self.training = state, training
        self.before: list[str] | None = None
        self.waiting = False
        self.button = QPushButton("Retrain with corrections")
        self.button.setToolTip("Train again with the form's settings on the data as "
                               "corrected, and compare with the last run")
        self.button.clicked.connect(self.retrain)
        self.table = QTableWidget(len(ROWS), 2)
        self.table.setHorizontalHeaderLabels(["before (last run)", "after (with corrections)"])
        self.table.setVerticalHeaderLabels(list(ROWS))
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setMaximumHeight(22 * len(ROWS) + 30)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 220)
        self.table.setVisible(False)
        training.run_finished.connect(self._ended)

    def retrain(self) -> None:
        if self.training.is_busy():
            self.message.emit("Training is running; retrain when it has finished")
            return
        before = summary(self.training.history, self.state.run_data) \
            if self.training.history else ["no run yet"] + ["–"] * (len(ROWS) - 1)
        self.training.start()
        if not self.training.is_running():
            self.message.emit("Retraining did not start; the Training dock says why")
            return
        self.before, self.waiting = before, True
        self._fill(self.before, ["training…"] + [""] * (len(ROWS) - 1))
        self.message.emit("Retraining with your corrections …")

    def _ended(self, info: dict) -> None:
        if not self.waiting:
            return
        self.waiting = False
        if info["error"] or info["stopped"]:
            after = ["stopped" if info["stopped"] else "failed"] + ["–"] * (len(ROWS) - 1)
        else:
            after = summary(self.training.history, self.state.run_data)
        self._fill(self.before, after)
        self.message.emit("Retrained with your corrections: before and after below")

    def _fill(self, before: list[str], after: list[str]) -> None:
        for column, values in enumerate((before, after)):
            for row, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.setVisible(True)

    def columns(self) -> tuple[list[str], list[str]]:
        """What the table shows, column by column (before, after)."""
        return tuple([self.table.item(r, c).text() if self.table.item(r, c) else ""
                      for r in range(len(ROWS))] for c in range(2))
