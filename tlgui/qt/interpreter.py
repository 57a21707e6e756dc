"""The interpreter set up for a GUI thread beside busy worker threads.

The GUI thread waits at most ``SWITCH_INTERVAL`` for the interpreter lock: CPython's
default, 5 ms, is paid on every call from Qt into Python (each paint, each model call)
while a worker runs Python: the Dataset dock's jump to the end of a million files took
270 ms with it and 30 ms with 1 ms (``scripts/bench_browser.py``).

Python's garbage collector runs only on the GUI thread.

Automatic collection can start in whichever thread happens to allocate, for instance the
training thread; if it then frees Qt widgets that a closed window left in reference
cycles, their destructors run on the wrong thread and can deadlock against the GUI
thread. So automatic collection is switched off and a timer on the GUI thread collects
instead, a generation at a time, as CPython's own thresholds would.
"""

import gc
import sys

from PySide6.QtCore import QObject, QTimer

SWITCH_INTERVAL = 0.001  # seconds a thread holding the interpreter keeps it from another


class MainThreadCollector(QObject):
    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(interval_ms)
        gc.disable()

    def collect(self) -> int:
        """Collect the oldest generation whose threshold is reached; returns it, or -1."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return generation
        return -1

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


_collector: MainThreadCollector | None = None


def install(app: QObject) -> MainThreadCollector:
    """Start collecting on the GUI thread and shorten the switch interval (once per
    application)."""
    global _collector
    sys.setswitchinterval(SWITCH_INTERVAL)
    if _collector is None:
        _collector = MainThreadCollector(parent=app)
    return _collector
