"""Issue 5 in the app: the branch dialog previews, applies as one step, undoes, redoes."""

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from tlgui.qt.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.open_model("builtin:cifar_net").done, timeout=30_000):
        pass
    return win


def test_pick_fork_and_join_preview_apply_undo_redo(window, qtbot):
    original = window.experiment.model
    dialog = window.add_branch()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: dialog.fork.count() > 0, timeout=30_000)
    dialog.fork.setCurrentText("x")
    assert "relu_3" in [dialog.join.itemText(i) for i in range(dialog.join.count())]
    assert "x" not in [dialog.join.itemText(i) for i in range(dialog.join.count())]
    dialog.join.setCurrentText("relu_3")
    dialog.init.setCurrentText("fresh")
    dialog.classes.setValue(10)
    qtbot.waitUntil(ok.isEnabled, timeout=30_000)
    assert dialog.summary.text().startswith("124,002 parameters (+61,996 new), 124,002 trainable")
    assert "output 10." in dialog.summary.text()
    preview = dialog.tree.model()
    assert "branch" in preview.tree.nodes and "branch.fc2" in preview.tree.nodes
    assert window.experiment.model is original, "nothing changes before Apply"
    ok.click()
    branched = window.experiment.model
    assert branched is not original and branched.fc3.in_features == 168
    assert "branch.conv1" in window.layer_model.tree.nodes
    assert window.undo_action.text().startswith("&Undo branch x → relu_3")
    window.undo_action.trigger()
    assert window.experiment.model is original and "branch" not in window.layer_model.tree.nodes
    window.redo_action.trigger()
    assert window.experiment.model is branched and "branch" in window.layer_model.tree.nodes


def test_errors_show_inline_and_block_apply(window, qtbot):
    dialog = window.add_branch()
    qtbot.waitUntil(lambda: dialog.fork.count() > 0, timeout=30_000)
    dialog.fork.setCurrentText("x")
    dialog.join.setCurrentText("conv1")
    dialog.merge.setCurrentText("concat")
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=30_000)
    assert "concat" in dialog.error.text() or "classifier" in dialog.error.text()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dialog.reject()
