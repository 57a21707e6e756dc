import pytest

from tlgui.qt.main_window import MainWindow
from tlgui.qt.model.open_model_dialog import OpenModelDialog

NAMES = ["default", "builtin:cifar_net", "builtin:vgg64", "resnet18", "resnet50",
         "timm:resnet18"]


def test_search_weights_and_availability(qtbot):
    dialog = OpenModelDialog(names=NAMES)
    qtbot.addWidget(dialog)
    assert dialog.spec == "default" and dialog.available.text() == "bundled (works offline)"
    dialog.search.setText("resnet")
    assert dialog.filtered.rowCount() == 3
    dialog.list.setCurrentIndex(dialog.filtered.index(0, 0))
    assert dialog.spec == "resnet18"
    assert [dialog.weights.itemText(i) for i in range(dialog.weights.count())] == [
        "DEFAULT", "IMAGENET1K_V1", "none"]
    assert dialog.available.text() in ("in cache", "needs download")
    dialog.weights.setCurrentText("none")
    assert dialog.available.text() == "random initialisation"
    assert dialog.choice() == ("resnet18", "none", False, None)


def test_factory_runs_only_when_trusted(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)
    factory = tmp_path / "net.py"
    factory.write_text("import torch\ndef create_model():\n"
                       "    return torch.nn.Sequential(torch.nn.Flatten(), "
                       "torch.nn.Linear(3 * 224 * 224, 3))\n")
    win = MainWindow()
    qtbot.addWidget(win)
    dialog = OpenModelDialog(win, names=NAMES)
    dialog.use_factory(f"{factory}:create_model")
    assert not dialog.warning.isHidden() and dialog.warning.text().startswith("A Python factory")
    with qtbot.waitSignal(win.open_model(*dialog.choice()).failed, timeout=30_000) as failed:
        pass
    assert "--trust-code" in failed.args[0] or "trust" in failed.args[0]
    dialog.trust.setChecked(True)
    with qtbot.waitSignal(win.open_model(*dialog.choice()).done, timeout=30_000):
        pass
    assert win.experiment.model[1].out_features == 3


@pytest.mark.parametrize("spec", ["resnt18"])
def test_unknown_name_from_the_window(qtbot, monkeypatch, spec):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.open_model(spec).failed, timeout=30_000):
        pass
    assert "Did you mean" in win.message.text()
