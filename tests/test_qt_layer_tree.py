import pytest
from PySide6.QtCore import Qt

from tlgui.qt.main_window import MainWindow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.open_model("builtin:cifar_net").done,
                          timeout=30_000):
        pass
    return win


def check_state(win, name):
    model = win.layer_model
    return Qt.CheckState(model.data(model.index_of(name), Qt.ItemDataRole.CheckStateRole))


def test_ticking_a_row_freezes_exactly_that_subtree(window):
    model, net = window.layer_model, window.experiment.model
    assert window.view.model() is model and model.rowCount() == 1
    assert model.rowCount(model.index(0, 0)) == 6  # conv1 pool conv2 fc1 fc2 fc3
    index = model.index_of("conv2")
    assert model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {"conv2.weight", "conv2.bias"}
    assert check_state(window, "conv2") == Qt.CheckState.Unchecked
    assert check_state(window, "") == Qt.CheckState.PartiallyChecked
    assert model.data(model.index_of("conv2", 4)) == "frozen"
    assert "trainable 59,590 / 62,006" in window.params_label.text()
    model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert all(p.requires_grad for p in net.parameters())
    assert check_state(window, "") == Qt.CheckState.Checked


def test_layers_without_parameters_have_no_checkbox(window):
    model = window.layer_model
    pool = model.index_of("pool")
    assert model.data(pool, Qt.ItemDataRole.CheckStateRole) is None
    assert not model.flags(pool) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.data(model.index_of("fc1", 2)) == "120"


def test_head_only_preset_updates_the_view(window):
    window.head_only_action.trigger()
    assert check_state(window, "fc3") == Qt.CheckState.Checked
    assert check_state(window, "fc1") == Qt.CheckState.Unchecked
    assert check_state(window, "") == Qt.CheckState.PartiallyChecked
    window.all_trainable_action.trigger()
    assert check_state(window, "fc1") == Qt.CheckState.Checked


def test_checkbox_changes_undo_and_redo(window):
    model, net = window.layer_model, window.experiment.model
    model.setData(model.index_of("fc1"), Qt.CheckState.Unchecked.value,
                  Qt.ItemDataRole.CheckStateRole)
    assert not net.fc1.weight.requires_grad and window.undo_action.isEnabled()
    assert window.undo_action.text() == "&Undo freeze fc1"
    window.undo_action.trigger()
    assert net.fc1.weight.requires_grad and check_state(window, "") == Qt.CheckState.Checked
    window.redo_action.trigger()
    assert not net.fc1.weight.requires_grad
    assert check_state(window, "fc1") == Qt.CheckState.Unchecked
    model.setData(model.index_of(""), Qt.CheckState.Unchecked.value,
                  Qt.ItemDataRole.CheckStateRole)
    assert not any(p.requires_grad for p in net.parameters())
    window.undo_action.trigger()
    assert [n for n, p in net.named_parameters() if not p.requires_grad] == [
        "fc1.weight", "fc1.bias"]


def test_parent_index_round_trips(window):
    model = window.layer_model
    child = model.index_of("fc2")
    assert model.parent(child) == model.index(0, 0)
    assert model.index(child.row(), 0, model.parent(child)) == child


def test_loading_an_unknown_model_shows_the_message(qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.open_model("resnt18").failed, timeout=30_000):
        pass
    assert "Did you mean: resnet18" in shown[0]
    assert "Did you mean" in win.message.text() and not win.busy.isVisible()


def test_missing_display_gets_advice_instead_of_an_abort(monkeypatch):
    from tlgui.qt import platform_check

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "no display found" in platform_check.display_problem()
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(platform_check.ctypes.util, "find_library",
                        lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    assert platform_check.display_problem().endswith("apt-get install libxcb-cursor0")


def test_context_menu_gestures_and_details(window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    net = window.experiment.model
    menu = window.model_panel.context_menu("conv2")
    actions = {a.text(): a for a in menu.actions()}
    actions["Freeze up to here"].trigger()
    assert [n for n, p in net.named_parameters() if not p.requires_grad] == [
        "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]
    assert window.undo_action.text() == "&Undo freeze up to conv2"
    window.model_panel.context_menu("fc1").actions()[1].trigger()  # unfreeze from fc1
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert all(p.requires_grad for p in net.parameters())
    assert not actions["Freeze all normalisation layers"].isEnabled()  # CifarNet has none
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *args: (0.25, True))
    actions["Set learning-rate multiplier…"].trigger()
    assert window.training.form.config().lr_multipliers == {"conv2": 0.25}
    view = window.model_panel.view
    view.setCurrentIndex(window.layer_model.index_of("fc1"))
    text = window.model_panel.details.text()
    assert "fc1</b> — Linear" in text and "weight: [120, 400] trainable" in text
    assert window.model_panel.histogram.getPlotItem().listDataItems()


def test_first_k_blocks_and_replace_head_actions(window):
    net = window.experiment.model
    window.freeze_first_blocks(2)  # conv1, pool
    assert {n for n, p in net.named_parameters() if not p.requires_grad} == {
        "conv1.weight", "conv1.bias"}
    window.replace_head(4)
    assert window.experiment.model.fc3.out_features == 4
    assert window.layer_model.tree.nodes["fc3"].output_shape == (1, 4)
    window.undo_action.trigger()
    assert window.experiment.model.fc3.out_features == 10
