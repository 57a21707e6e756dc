"""Issue 4: save -> close -> open restores hashes, freezing, recipe and plots; export; drop."""

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tlgui.core.model.snapshots import snapshot
from tlgui.qt.main_window import MainWindow

from .helpers import make_image_folder


def open_window(qtbot, spec="builtin:cifar_net"):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    if spec:
        with qtbot.waitSignal(win.open_model(spec).done, timeout=30_000):
            pass
    return win


@pytest.fixture
def trained(qtbot, tmp_path):
    win = open_window(qtbot)
    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    form = win.training.form
    form.data_edit.setText(str(data))
    form.epochs.setValue(2)
    form.batch_size.setValue(4)
    win._apply({"op": "freeze", "selectors": ["conv1"]})
    with qtbot.waitSignal(win.training.run_finished, timeout=120_000):
        win.training.start_button.click()
    return win


def test_save_close_open_restores_everything(trained, qtbot, tmp_path):
    win = trained
    path = win.projects.save(tmp_path / "exp.tlgui")
    hashes = snapshot(win.experiment.model).hashes()
    frozen = {n for n, p in win.experiment.model.named_parameters() if not p.requires_grad}
    recipe = list(win.experiment.ops)
    plotted = list(win.training.series["val_loss"])
    assert len(plotted) == 2 and frozen == {"conv1.weight", "conv1.bias"}
    win.close()

    fresh = open_window(qtbot, spec=None)
    with qtbot.waitSignal(fresh.projects.open(path).done, timeout=60_000):
        pass
    assert snapshot(fresh.experiment.model).hashes() == hashes
    assert {n for n, p in fresh.experiment.model.named_parameters()
            if not p.requires_grad} == frozen
    assert fresh.experiment.ops == recipe
    assert fresh.training.series["val_loss"] == plotted
    x, y = fresh.training.curves["val_loss"].getData()
    assert len(x) == 2
    assert fresh.training.form.epochs.value() == 2
    assert str(path) in fresh.projects.recent()


def test_autosave_after_each_epoch(trained, qtbot, tmp_path):
    win = trained
    path = win.projects.save(tmp_path / "auto.tlgui")
    before = path.stat().st_mtime_ns
    with qtbot.waitSignal(win.training.run_finished, timeout=120_000):
        win.training.start_button.click()
    assert path.stat().st_mtime_ns > before
    assert "project autosaved" in win.training.log.toPlainText()


def test_export_script_from_the_menu(trained, tmp_path):
    path = trained.projects.export(str(tmp_path / "train.py"))
    text = path.read_text()
    assert "def make_model" in text and '"conv1.weight"' in text


def test_dropping_a_folder_opens_it_in_the_dataset_panel(qtbot, tmp_path):
    win = open_window(qtbot)
    data = make_image_folder(tmp_path / "dropped", per_class=2, val_per_class=1)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(data))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(win.dataset.index_ready, timeout=30_000):
        win.dropEvent(event)
    assert win.dataset.index.root == data


def test_training_settings_are_remembered_between_runs(qtbot):
    win = open_window(qtbot, spec=None)
    win.training.form.epochs.setValue(17)
    win.training.form.optimizer.setCurrentText("sgd")
    win.close()
    again = open_window(qtbot, spec=None)
    assert again.training.form.epochs.value() == 17
    assert again.training.form.optimizer.currentText() == "sgd"
    from PySide6.QtCore import QSettings

    QSettings().remove("training/config")  # later tests start from the defaults
