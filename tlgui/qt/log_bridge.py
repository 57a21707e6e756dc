"""Python logging into the window's Log dock."""

import logging

from PySide6.QtCore import QObject, Signal


class LogBridge(QObject, logging.Handler):
    """Python logging records (tracebacks of unexpected errors too) into the Log dock, from
    any thread."""

    record_text = Signal(str)

    def __init__(self) -> None:
        QObject.__init__(self)
        logging.Handler.__init__(self)

    def emit(self, record: logging.LogRecord) -> None:  # logging.Handler's emit
        self.record_text.emit(self.format(record))
