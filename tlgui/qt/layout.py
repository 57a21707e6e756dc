"""Small layout helpers the panels share."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget


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
