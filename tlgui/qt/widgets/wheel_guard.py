"""App-wide: spin boxes, combo boxes and sliders take the mouse wheel only when they have the
keyboard focus (a click or Tab gives it). Unfocused, the wheel scrolls what is around them,
so scrolling a form never changes a setting under the pointer."""

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(watched, GUARDED) or _is_scroll_bar_of_an_area(watched):
            return False
        if event.type() == QEvent.Type.Polish:  # every widget is polished once, when shown
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives no focus
        elif event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            area = _enclosing_scroll_area(watched)
            if area is not None:
                QCoreApplication.sendEvent(area.verticalScrollBar(), event)
            return True
        return False


def _enclosing_scroll_area(widget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def _is_scroll_bar_of_an_area(widget) -> bool:
    """A scroll area's own scroll bars keep the wheel: scrolling is what they are for."""
    area = _enclosing_scroll_area(widget)
    return area is not None and widget in (area.verticalScrollBar(), area.horizontalScrollBar())


_installed: dict[int, WheelGuard] = {}


def install(app: QCoreApplication) -> WheelGuard:
    """Install the guard on ``app`` once; returns it."""
    if id(app) not in _installed:
        guard = _installed[id(app)] = WheelGuard(app)
        app.installEventFilter(guard)
    return _installed[id(app)]
