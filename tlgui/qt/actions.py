"""Menu and toolbar actions made one way."""

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def make_action(parent: QWidget, text: str, slot: Callable,
                *keys: str | QKeySequence.StandardKey) -> QAction:
    """An action that calls ``slot`` (with no arguments) when triggered, with ``keys`` as
    its shortcuts (the first is the one menus show)."""
    action = QAction(text, parent)
    action.setShortcuts([QKeySequence(key) for key in keys])
    action.triggered.connect(lambda _checked=False: slot())
    return action
