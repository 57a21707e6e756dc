"""The Results and Predict docks and File → Export (issue 11)."""

import csv
import json

import pytest

from tlgui.qt.main_window import MainWindow

from .helpers import make_image_folder


@pytest.fixture
def trained_window(qtbot, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.open_model("builtin:cifar_net", "none").done, timeout=30_000):
        pass
    data = make_image_folder(tmp_path / "data", per_class=12, val_per_class=4,
                             classes=("blue", "green", "red"))
    form = win.training.form
    form.data_edit.setText(str(data))
    form.epochs.setValue(3)
    form.batch_size.setValue(4)
    with qtbot.waitSignal(win.training.run_finished, timeout=120_000) as finished:
        win.training.start_button.click()
    assert finished.args[0]["error"] is None
    return win, data


def test_results_dock_shows_matrix_table_and_mistakes(trained_window, qtbot):
    win, _ = trained_window
    panel = win.results
    with qtbot.waitSignal(panel.evaluated, timeout=60_000) as done:
        panel.evaluate_button.click()
    report = done.args[0]
    assert report.classes == ["blue", "green", "red"] and report.images == 12
    assert sum(map(sum, report.confusion)) == 12 and panel.table.rowCount() == 3
    assert panel.image.image.shape == (3, 3) and len(panel._labels) == 9
    panel.normalised.setChecked(True)
    assert abs(panel.image.image.sum() - sum(1 for s in report.support if s)) < 1e-6
    assert panel.gallery.count() == len(report.mistakes)
    assert "top-1" in panel.status.text()


def test_predict_dock_labels_with_the_runs_classes_and_saves_csv(trained_window, qtbot,
                                                                 tmp_path):
    win, data = trained_window
    panel = win.predict
    assert panel.views.empty and "Add images or a folder" in panel.views.hint.text()
    with qtbot.waitSignal(panel.predicted, timeout=60_000) as done:
        panel.predict([str(data / "val")])
    results = done.args[0]
    assert len(results) == 12 and panel.table.rowCount() == 12 and not panel.views.empty
    assert {r["top"][0]["label"] for r in results} <= {"blue", "green", "red"}
    bar = panel.table.cellWidget(0, 1)
    assert bar.format().split()[0] in ("blue", "green", "red")
    rows = list(csv.reader(panel.save_csv(str(tmp_path / "p.csv")).open()))
    assert rows[0][:3] == ["image", "label_1", "probability_1"] and len(rows) == 13


def test_export_onnx_from_the_file_menu(trained_window, qtbot, tmp_path):
    pytest.importorskip("onnxruntime")
    win, data = trained_window
    target = tmp_path / "m.onnx"
    with qtbot.waitSignal(win.exports.export("onnx", str(target)).done, timeout=60_000):
        pass
    meta = json.loads((tmp_path / "m.onnx.json").read_text())
    assert meta["classes"] == ["blue", "green", "red"] and target.stat().st_size > 0


def test_a_hundred_class_matrix_stays_legible(qtbot):
    from tlgui.core.inference.evaluate import EvalReport
    from tlgui.qt.results.results_panel import ResultsPanel

    n = 100
    confusion = [[5 if i == j else (1 if j == (i + 1) % n else 0) for j in range(n)]
                 for i in range(n)]
    report = EvalReport(classes=[f"species {i}" for i in range(n)], split="val", images=600,
                        confusion=confusion, precision=[5 / 6] * n, recall=[5 / 6] * n,
                        f1=[5 / 6] * n, support=[6] * n, top1=5 / 6, topk=1.0, k=5)
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.show_report(report)
    assert panel.image.image.shape == (n, n) and panel._labels == []  # no unreadable numbers
    assert panel.table.rowCount() == n
    view = panel.matrix_plot.getViewBox()
    before = view.viewRange()
    view.scaleBy((0.1, 0.1))  # what the mouse wheel does
    after = view.viewRange()
    assert after[0][1] - after[0][0] < before[0][1] - before[0][0]


def test_a_predict_row_opens_its_explanation_and_any_class_can_be_explained(trained_window,
                                                                              qtbot):
    from PySide6.QtCore import Qt

    from tlgui.qt.results.explain_dialog import ExplainDialog

    win, data = trained_window
    panel = win.predict
    with qtbot.waitSignal(panel.predicted, timeout=60_000):
        panel.predict([str(data / "val")])
    win.docks["Predict"].raise_()
    panel.table.setFocus()
    panel.table.setCurrentCell(2, 0)
    qtbot.keyClick(panel.table.viewport(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(panel.findChildren(ExplainDialog)), timeout=5_000)
    dialog = panel.explain(2)  # the open one, raised, not a second
    assert panel.findChildren(ExplainDialog) == [dialog]
    qtbot.waitUntil(lambda: dialog.explanation is not None, timeout=60_000)
    first = dialog.explanation
    assert first.path == panel.results[2]["image"]
    assert first.predicted == panel.results[2]["top"][0]["label"]
    assert first.heatmap.max() == pytest.approx(1.0) and first.layer == dialog.layer.itemText(1)
    before = dialog.view.pixmap().toImage()
    dialog.opacity.setValue(100)
    assert dialog.view.pixmap().toImage() != before
    other = next(c for c in ("blue", "green", "red") if c != first.predicted)
    dialog.target.setCurrentText(other)
    qtbot.waitUntil(lambda: dialog.explanation.explained == other, timeout=60_000)
    assert dialog.explanation.predicted == first.predicted
    assert other in dialog.status.text()


def test_a_mistake_opens_its_explanation(trained_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QListWidgetItem

    win, data = trained_window
    panel = win.results
    path = str(sorted((data / "val" / "red").iterdir())[0])
    item = QListWidgetItem("red → blue\n51%")  # as the gallery fills it
    item.setData(Qt.ItemDataRole.UserRole, path)
    panel.gallery.addItem(item)
    dialog = panel._open_image(item)
    qtbot.waitUntil(lambda: dialog.explanation is not None, timeout=60_000)
    assert dialog.explanation.path == path and not dialog.explanation.error
    assert dialog.explanation.predicted in ("blue", "green", "red")
    assert f"predicted {dialog.explanation.predicted}" in dialog.status.text()
