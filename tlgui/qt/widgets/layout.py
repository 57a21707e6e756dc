"""Small layout helpers the panels share."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QWidget


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
