"""Measuring how responsive the GUI thread is: a timer that records the gaps between ticks."""

import time

from PySide6.QtCore import QObject, QTimer


class StallWatch(QObject):
    """``start()``, do the work, ``stop()``; ``gaps`` holds the seconds between ticks, so the
    longest gap bounds how long the event loop was blocked."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.monotonic()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.monotonic()
        self.gaps.append(now - self._last)
        self._last = now

    def longest(self, count: int = 1) -> list[float]:
        return sorted(self.gaps)[-count:]
