"""Running slow core calls on a worker thread so the window never freezes."""

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot


class _Job(QObject):
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # shown to the user, never lost
            from tlgui.core.errors import TlguiError, user_message

            if not isinstance(exc, TlguiError):  # a bug: the traceback goes to the log
                logging.getLogger("tlgui").exception("unexpected error")
            self.failed.emit(user_message(exc))
        else:
            self.succeeded.emit(result)


class BackgroundCall(QObject):
    """Runs ``fn`` once on its own ``QThread``; ``done(result)`` or ``failed(message)``
    arrive on the thread that created this object."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._job = _Job(fn)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.succeeded.connect(self._finish_ok)
        self._job.failed.connect(self._finish_error)
        # Direct: quit() is thread-safe, and a GUI thread blocked in wait() could not run it.
        for signal in (self._job.succeeded, self._job.failed):
            signal.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def _stop_thread(self) -> None:
        self._thread.wait()

    @Slot(object)
    def _finish_ok(self, result: object) -> None:
        self._stop_thread()
        self.done.emit(result)

    @Slot(str)
    def _finish_error(self, message: str) -> None:
        self._stop_thread()
        self.failed.emit(message)

    def wait(self, ms: int = -1) -> bool:
        """Block until the thread ends (for shutdown); True when it has ended."""
        return self._thread.wait(ms) if ms >= 0 else self._thread.wait()
