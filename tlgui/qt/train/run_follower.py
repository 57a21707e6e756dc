"""File → Follow run…: watch a run folder that another process writes (a headless
``tlgui train`` here, or a server's run folder mounted or synced) through its events.jsonl."""

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from tlgui.core.train.follow import EventTail
from tlgui.qt.train.training_panel import TrainingPanel

POLL_MS = 300


class RunFollower(QObject):
    """Feeds new events to the training panel; weights are loaded only when the user opens
    the run (File → Open)."""

    finished = Signal(dict)  # the fit_end event
    event_shown = Signal(dict)

    def __init__(self, panel: TrainingPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.folder: Path | None = None
        self.tail: EventTail | None = None
        self.integrity: dict | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    def follow(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.tail = EventTail(self.folder)
        self.integrity = None
        self.panel.say(f"following {self.folder / 'events.jsonl'}")
        self.panel.status.setText(f"Following {self.folder} …")
        self.timer.start()
        self.poll()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> None:
        if self.tail is None:
            return
        for event in self.tail.read_new():
            self.panel.follow_event(event)
            self.event_shown.emit(event)
            if event["event"] == "integrity":
                self.integrity = event
            if event["event"] == "fit_end":
                self.stop()
                self.finished.emit(event)
