"""Following a headless run from the app, and exporting a run folder to train elsewhere
(issue 12)."""

import json
import subprocess
import sys

from tlgui.cli import main
from tlgui.qt.main_window import MainWindow

from .helpers import make_image_folder


def test_the_app_follows_a_headless_run_live(qtbot, tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=8, val_per_class=2)
    run = tmp_path / "run"
    win = MainWindow()
    qtbot.addWidget(win)
    process = subprocess.Popen(
        [sys.executable, "-m", "tlgui", "train", "--model", "builtin:cifar_net", "--weights",
         "none", "--data", str(data), "--epochs", "3", "--batch-size", "4", "--out", str(run)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        follower = win.runs.follow(run)  # before the file exists: it waits for it
        with qtbot.waitSignal(follower.finished, timeout=180_000) as finished:
            pass
    finally:
        process.wait(timeout=120)
    assert finished.args[0]["epochs"] == 3 and finished.args[0]["error"] is None
    panel = win.training
    assert len(panel.series["train_loss"]) == 3 and len(panel.series["val_acc"]) == 3
    assert panel.series["batch_loss"] and "integrity PASS" in panel.log.toPlainText()
    assert follower.integrity["passed"] and win.experiment is None  # no weights loaded


def test_export_a_run_folder_and_train_it_from_the_command_line(qtbot, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.open_model("builtin:cifar_net", "none").done, timeout=30_000):
        pass
    win.replace_head(2)
    win._apply({"op": "freeze", "selectors": ["conv1"]})
    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    win.training.form.data_edit.setText(str(data))
    win.training.form.epochs.setValue(1)
    commands = win.runs.export(tmp_path / "plan")
    assert commands[0].startswith("tlgui train --from") and "torchrun" in commands[1]
    assert (tmp_path / "plan" / "COMMANDS.txt").read_text().count("--from") == 2
    assert main(["train", "--from", str(tmp_path / "plan"), "--data", str(data), "--out",
                 str(tmp_path / "run")]) == 0
    integrity = json.loads((tmp_path / "run" / "integrity.json").read_text())
    frozen = {t["name"]: t for t in integrity["tensors"] if t["name"].startswith("conv1.")}
    assert frozen and all(t["verdict"] == "unchanged" for t in frozen.values())
