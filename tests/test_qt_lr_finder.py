"""The learning-rate finder in the app (issue 22): it runs on a worker thread with the
model locked, plots loss against rate with the suggestion marked, and a click on the plot
or "Use suggested" sets the form's rate, one undo step each."""

import math

import pytest
import torch
from PySide6.QtCore import QPointF

from . import test_qt_training

window = test_qt_training.window  # the fixture: the app with vgg64 and a data folder


def _finished(window, qtbot):
    panel = window.training
    busy = []
    panel.model_busy.connect(busy.append)
    before = {k: v.clone() for k, v in window.experiment.model.state_dict().items()}
    panel.form.find_lr_button.click()
    dialog = panel.finder
    assert dialog is not None and dialog.isVisible()
    assert window.layer_model.locked and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.sweep is not None and not dialog.running, timeout=120_000)
    qtbot.waitUntil(lambda: busy == [True, False], timeout=10_000)
    assert not window.layer_model.locked and panel.start_button.isEnabled()
    after = window.experiment.model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    return panel, dialog


def test_the_finder_plots_the_sweep_and_marks_the_suggestion(window, qtbot, tmp_path):
    panel, dialog = _finished(window, qtbot)
    sweep = dialog.sweep
    x, y = dialog.curve.getData()
    assert len(x) == len(sweep.lrs) > 10 and sweep.restored
    assert sweep.suggested_lr and dialog.marker.isVisible()
    assert dialog.marker.value() == pytest.approx(math.log10(sweep.suggested_lr))
    assert "valley" in dialog.status.text() and "restored bit for bit" in dialog.status.text()
    dialog.resize(700, 480)
    dialog.grab().save(str(tmp_path / "lr_finder.png"))


def test_use_and_click_set_the_rate_and_each_undoes_in_one_step(window, qtbot):
    panel, dialog = _finished(window, qtbot)
    rate = panel.form.lr
    start = rate.value()
    dialog.use_button.click()
    suggested = float(f"{dialog.sweep.suggested_lr:.3g}")
    assert rate.value() == pytest.approx(suggested, rel=1e-3)
    box = dialog.plot.getViewBox()
    (left, right), (bottom, top) = box.viewRange()
    middle = (left + right) / 2  # log10 of a rate on the plot
    target = box.mapViewToScene(QPointF(middle, (bottom + top) / 2))

    class Click:
        def button(self):
            from PySide6.QtCore import Qt
            return Qt.MouseButton.LeftButton

        def scenePos(self):
            return target

    dialog._clicked(Click())
    assert rate.value() == pytest.approx(10 ** middle, rel=0.05)
    assert dialog.chosen.value() == pytest.approx(math.log10(rate.value()))
    dialog.undo_button.click()
    assert rate.value() == pytest.approx(suggested, rel=1e-3)
    dialog.undo_button.click()
    assert rate.value() == pytest.approx(start) and not dialog.undo_button.isEnabled()
