"""The app at laptop size (issue 19): a Run menu and toolbar whose shortcuts work anywhere
in the window, the training actions outside the settings' scroll area, Resume of a stopped
run, and settings that ignore a stray mouse wheel."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from . import test_qt_training

window = test_qt_training.window  # the fixture: the app with vgg64 and a data folder


def _run_menu(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    return {a.text().replace("&", ""): a for a in menu.actions()}


def test_start_is_in_the_run_menu_and_on_the_toolbar(window, qtbot):
    actions = _run_menu(window)
    assert list(actions) == ["Start training", "Stop", "Resume stopped run",
                             "Find learning rate…", "Evaluate"]
    toolbar = next(t for t in window.findChildren(type(window.addToolBar("x")))
                   if t.objectName() == "run-toolbar")
    assert actions["Start training"] in toolbar.actions()
    assert not actions["Stop"].isEnabled() and not actions["Resume stopped run"].isEnabled()
    with qtbot.waitSignal(window.training.run_finished, timeout=180_000):
        actions["Start training"].trigger()
        assert actions["Stop"].isEnabled() and not actions["Start training"].isEnabled()
    assert actions["Start training"].isEnabled() and not actions["Stop"].isEnabled()


def test_run_shortcuts_work_from_any_dock(window, qtbot):
    from PySide6.QtTest import QTest

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    window.view.setFocus()  # the layer tree, far from the training dock
    with qtbot.waitSignal(window.training.run_started, timeout=10_000):
        QTest.keyClick(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(window.training.run_finished, timeout=180_000):
        QTest.keyClick(window.view, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)


def test_a_stopped_run_resumes_to_the_end(window, qtbot):
    panel, actions = window.training, _run_menu(window)
    with qtbot.waitSignal(panel.run_finished, timeout=180_000) as stopped:
        panel.start_button.click()
        qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=120_000)
        panel.stop_button.click()
    assert stopped.args[0]["stopped"] and panel.can_resume()
    assert actions["Resume stopped run"].isEnabled() and panel.resume_button.isEnabled()
    done = len(panel.history)
    with qtbot.waitSignal(panel.run_finished, timeout=180_000) as finished:
        actions["Resume stopped run"].trigger()
    info = finished.args[0]
    assert info["error"] is None and not info["stopped"] and info["epochs"] == 3
    assert len(panel.history) == 3 and done < 3
    assert f"resumed from {panel.run.out / 'checkpoints'} at epoch {done + 1}" in \
        panel.log.toPlainText()
    assert not panel.can_resume()


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768)])
def test_the_training_actions_stay_visible_at_laptop_size(window, qtbot, size):
    window.fit_to(*size)
    window.docks["Training"].raise_()
    qtbot.wait(50)
    panel = window.training
    for widget in (panel.start_button, panel.stop_button, panel.resume_button, panel.progress):
        parent = widget.parentWidget()
        while parent is not None:
            assert not isinstance(parent, QScrollArea), "actions must not scroll away"
            parent = parent.parentWidget()
        assert not widget.visibleRegion().isEmpty(), widget.text() if hasattr(widget, "text") \
            else widget


def _wheel(widget, steps: int = -3) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(QPoint(0, 0))) + centre,
                        QPoint(0, 0), QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_setting_changes_nothing(window, qtbot):
    window.fit_to(1280, 800)
    form = window.training.form
    window.view.setFocus()
    scroll = next(p for p in [form.parentWidget()] + [None] if p is not None)
    while not isinstance(scroll, QScrollArea):
        scroll = scroll.parentWidget()
    bar = scroll.verticalScrollBar()
    bar.setValue(0)
    before = (form.pretrained_mult.value(), form.epochs.value(), form.optimizer.currentIndex(),
              form.schedule.currentIndex())
    for widget in (form.pretrained_mult, form.epochs, form.optimizer, form.schedule):
        assert not widget.hasFocus()
        assert widget.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives no focus
        _wheel(widget)
    assert (form.pretrained_mult.value(), form.epochs.value(), form.optimizer.currentIndex(),
            form.schedule.currentIndex()) == before
    assert bar.maximum() == 0 or bar.value() > 0  # the form scrolled instead
    form.epochs.setFocus()
    qtbot.waitUntil(form.epochs.hasFocus, timeout=2_000)
    _wheel(form.epochs, steps=1)
    assert form.epochs.value() == before[1] + 1  # focused, it takes the wheel


def test_docks_say_what_to_do_until_a_run_fills_them(window, qtbot):
    results, panel = window.results, window.training
    assert results.views.empty and "Nothing evaluated yet" in results.views.hint.text()
    assert panel.plots.empty and "Start training" in panel.plots.hint.text()
    assert window.weights.views.empty and "Start training" in window.weights.views.hint.text()
    with qtbot.waitSignal(results.evaluated, timeout=240_000) as evaluated:
        panel.start_button.click()  # the run's validation split is evaluated when it ends
    report = evaluated.args[0]
    assert report.split == "val" and report.images == 8  # 4 held-out photos per class
    assert not results.views.empty and not panel.plots.empty
    assert results.status.text().startswith("8 val images · top-1")
    assert "integrity PASS" in window.weights.banner.text()  # the final verdict
    assert not window.weights.views.empty
