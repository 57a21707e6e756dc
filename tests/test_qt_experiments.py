"""The Experiments dock (issue 10): a grid runs on a worker thread, the table and charts fill,
double-clicking a cell opens it as the current model."""

from PySide6.QtCore import Qt

from tlgui.qt.main_window import MainWindow

from .helpers import make_image_folder


def test_grid_in_the_app_fills_table_and_charts_and_opens_a_cell(qtbot, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.experiments
    form = win.training.form
    form.data_edit.setText(str(make_image_folder(tmp_path / "data", per_class=8,
                                                 val_per_class=3)))
    form.epochs.setValue(1)
    form.batch_size.setValue(4)
    for i in range(panel.models.count()):
        item = panel.models.item(i)
        wanted = item.data(Qt.ItemDataRole.UserRole) == "builtin:cifar_net"
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
    panel.strategy_boxes["scratch"].setChecked(False)
    panel.out.setText(str(tmp_path / "grid"))
    assert panel.chosen_models() == ["builtin:cifar_net"]
    with qtbot.waitSignal(panel.grid_finished, timeout=120_000) as finished:
        panel.run_button.click()
    rows = finished.args[0]
    assert [r["strategy"] for r in rows] == ["shallow", "deep"]
    assert panel.table.rowCount() == 2 and panel.overall.value() == 2
    assert len(panel.accuracy_plot.listDataItems()) == 2  # one series per strategy
    assert "Finished: 2 cells" in panel.status.text() and panel.run_button.isEnabled()
    with qtbot.waitSignal(panel.open_cell, timeout=10_000):
        panel.table.cellDoubleClicked.emit(0, 0)
    qtbot.waitUntil(lambda: bool(win.experiment is not None and win.training.history),
                    timeout=30_000)
    assert win.training.classes == ["blue", "red"] and len(win.training.history) == 1
