"""The Clean dock (issue 21): check a data set with planted errors, review it with the
keyboard, see the corrections in the Dataset dock and in training, undo, export the
cleaned list, keep the corrections in the project, retrain and compare; no file changes."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tlgui.core.data.data_index import index_folder
from tlgui.core.project.project import load_project
from tlgui.qt.main_window import MainWindow

from .helpers import file_hashes, plant_errors


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return plant_errors(tmp_path_factory.mktemp("clean-dock") / "data")


@pytest.fixture
def window(qtbot, planted):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.open_model("default").done, timeout=60_000):
        pass
    root = planted[0]
    with qtbot.waitSignal(win.dataset.index_ready, timeout=30_000):
        win.dataset.open_folder(str(root))
    form = win.training.form
    form.epochs.setValue(1)
    form.batch_size.setValue(16)
    win.docks["Clean"].raise_()
    yield win
    win.close()


def _checked(window, qtbot):
    panel = window.clean
    with qtbot.waitSignal(panel.checked, timeout=300_000):
        panel.check_button.click()
    return panel


def _key(panel, key):
    QTest.keyClick(panel.lists[panel_kind(panel)], key)


def panel_kind(panel):
    from tlgui.core.cleaning.review import KINDS

    return KINDS[panel.tabs.currentIndex()]


def test_review_with_the_keyboard_corrects_the_data_but_no_file(window, qtbot, planted,
                                                                tmp_path):
    root, flipped, _original, _inside = planted
    before = file_hashes(root)
    panel = _checked(window, qtbot)
    state = window.state
    issues = panel.items["label_issues"]
    assert issues and panel_kind(panel) == "label_issues"
    assert panel.lists["label_issues"].hasFocus()
    qtbot.waitUntil(panel.board.loaded, timeout=30_000)
    first = issues[0].doc
    _key(panel, Qt.Key.Key_A)  # accept: relabel as suggested
    assert state.corrections.decision(state.data, first["path"]) == {
        "action": "relabel", "label": first["suggested"]}
    assert panel.lists["label_issues"].item(0).text().startswith("✓ relabelled")
    assert panel.lists["label_issues"].currentRow() == 1  # on to the next open finding

    panel.tabs.setCurrentIndex(1)  # copies and leaks, the leak first
    leak = panel.items["duplicates"][0]
    assert leak.doc["leak"]
    panel.lists["duplicates"].setCurrentRow(0)
    _key(panel, Qt.Key.Key_A)  # exclude the copies, keep the training one
    kept = next(p for p in leak.paths if "/train/" in p)
    assert state.corrections.decision(state.data, kept) is None
    assert all(state.corrections.decision(state.data, p) == {"action": "exclude"}
               for p in leak.paths if p != kept)

    panel.tabs.setCurrentIndex(2)
    blank = str(root / "val" / "bees" / "blank.jpg")
    row = [f.doc["path"] for f in panel.items["outliers"]].index(blank)
    panel.lists["outliers"].setCurrentRow(row)
    _key(panel, Qt.Key.Key_X)
    _key(panel, Qt.Key.Key_K)  # the next outlier is kept as it is
    counts = state.corrections.counts()
    assert counts["relabel"] == 1 and counts["exclude"] == len(leak.paths) and counts["keep"] == 1

    trained_on = window.training.load_data()
    files = {str(p) for s in trained_on.splits.values() for p, _ in s}
    assert blank not in files and kept in files
    assert "relabelled" in window.dataset.summary.text()
    shown = window.dataset.shown
    assert sum(len(s) for s in shown.splits.values()) == \
        sum(len(s) for s in state.data.splits.values()) - counts["exclude"]

    _key(panel, Qt.Key.Key_U)  # undo the keep
    assert state.corrections.counts()["keep"] == 0
    csv = panel.export_csv(str(tmp_path / "cleaned.csv"))
    exported = index_folder(csv)
    assert sorted(str(p.resolve()) for s in exported.splits.values() for p, _ in s) == \
        sorted(str(p.resolve()) for s in trained_on.splits.values() for p, _ in s)
    assert exported.splits["train"] and exported.splits["valid"]
    saved = window.projects.save(tmp_path / "cleaned.tlgui")
    assert load_project(saved).corrections.as_dict() == state.corrections.as_dict()
    assert file_hashes(root) == before  # nothing moved, renamed, rewritten or deleted


def test_retrain_with_corrections_compares_before_and_after(window, qtbot, planted):
    panel, training = window.clean, window.training
    with qtbot.waitSignal(training.run_finished, timeout=300_000):
        training.start()
    panel = _checked(window, qtbot)
    _key(panel, Qt.Key.Key_X)  # exclude the likeliest label error
    with qtbot.waitSignal(training.run_finished, timeout=300_000) as finished:
        panel.comparison.button.click()
    assert finished.args[0]["error"] is None
    before, after = panel.comparison.columns()
    assert before[0].endswith("%") and after[0].endswith("%")
    assert before[3] == "0 relabelled, 0 excluded" and after[3] == "0 relabelled, 1 excluded"
    assert int(after[2]) + int(after[1]) == int(before[2]) + int(before[1]) - 1
    assert window.state.run_data.corrected == window.state.corrections.as_dict()
    from tlgui.qt.project_actions import read_project_or_run

    reopened = read_project_or_run(training.run.out)  # the run folder keeps the corrections
    assert reopened.corrections.as_dict() == window.state.corrections.as_dict()
