"""Small layout helpers the panels share."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QWidget,
)


def split(orientation: Qt.Orientation, *widgets: QWidget,
          stretch: tuple[int, ...] = ()) -> QSplitter:
    """A splitter holding ``widgets``, with stretch factors in the same order."""
    splitter = QSplitter(orientation)
    for widget in widgets:
        splitter.addWidget(widget)
    for index, factor in enumerate(stretch):
        splitter.setStretchFactor(index, factor)
    return splitter


def across(*widgets: QWidget, stretch: tuple[int, ...] = ()) -> QSplitter:
    return split(Qt.Orientation.Horizontal, *widgets, stretch=stretch)


def stacked(*widgets: QWidget, stretch: tuple[int, ...] = ()) -> QSplitter:
    return split(Qt.Orientation.Vertical, *widgets, stretch=stretch)


def tabbed_docks(window: QMainWindow, panels: dict[str, QWidget]) -> dict[str, QDockWidget]:
    """One bottom dock per panel, titled by its key, all tabbed together in that order."""
    docks: dict[str, QDockWidget] = {}
    previous = None
    for title, widget in panels.items():
        dock = QDockWidget(title, window)
        dock.setObjectName(f"{title.lower()}-dock")
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        if previous is not None:
            window.tabifyDockWidget(previous, dock)
        docks[title] = previous = dock
    return docks


class EmptyState(QStackedWidget):
    """``content``, or until there is something to show, one line saying what to do."""

    def __init__(self, content: QWidget, hint: str) -> None:
        super().__init__()
        self.hint = QLabel(hint)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555; font-size: 14px; padding: 24px;")
        self.content = content
        self.addWidget(self.hint)
        self.addWidget(content)

    def show_content(self) -> None:
        self.setCurrentWidget(self.content)

    def show_hint(self, text: str | None = None) -> None:
        if text is not None:
            self.hint.setText(text)
        self.setCurrentWidget(self.hint)

    @property
    def empty(self) -> bool:
        return self.currentWidget() is self.hint
