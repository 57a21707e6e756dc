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
instead, a generation at a time, as CPython's own thresholds and rules would.
"""

import gc
import sys

from PySide6.QtCore import QObject, QTimer

SWITCH_INTERVAL = 0.001  # seconds a thread holding the interpreter keeps it from another
FULL_GROWTH = 0.25  # the oldest generation is collected once it grew by this much


class MainThreadCollector(QObject):
    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(interval_ms)
        self._kept = 0  # objects in the oldest generation after its last collection
        gc.disable()

    def collect(self) -> int:
        """Collect the oldest generation whose threshold is reached; returns it, or -1.
        The oldest only once it has grown by a quarter since it was last collected, as
        CPython itself decides: a full collection goes through every object kept (at a
        million files, 70 ms on the GUI thread), and most of them live as long as the app."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[2] > thresholds[2]:
            oldest = len(gc.get_objects(generation=2))
            if oldest - self._kept > FULL_GROWTH * self._kept:
                gc.collect(2)
                self._kept = len(gc.get_objects(generation=2))
                return 2
        for generation in (1, 0):
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
