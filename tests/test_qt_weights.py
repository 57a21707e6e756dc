"""The weight-diff viewer flags a frozen tensor that was changed behind its back."""

import pytest
import torch
from PySide6.QtCore import Qt

from tlgui.core import freeze, load_model, snapshot
from tlgui.qt.model.weights_panel import WeightsPanel, delta_image


def test_viewer_flags_frozen_but_changed_and_filters(qtbot):
    model = load_model("builtin:cifar_net", "none").model
    freeze(model, ["conv1"])
    before = snapshot(model)
    with torch.no_grad():
        model.conv1.weight[0, 0, 0, 0] += 0.5  # behind the optimiser's back
        model.fc1.weight.mul_(1.1)
    panel = WeightsPanel()
    qtbot.addWidget(panel)
    panel.compare(before, model)
    table = panel.table_model
    verdicts = {table.data(table.index(r, 0)): table.data(table.index(r, 7))
                for r in range(table.rowCount())}
    assert verdicts["conv1.weight"] == "frozen-but-changed"
    assert verdicts["fc1.weight"] == "changed" and verdicts["fc2.weight"] == "unchanged"
    assert "ALARM" in panel.banner.text() and "conv1.weight" in panel.banner.text()
    colour = table.data(table.index(0, 7), Qt.ItemDataRole.BackgroundRole)
    assert colour.name() == "#f8c9c9"
    panel.filter.setCurrentText("alarms (frozen but changed)")
    assert table.rowCount() == 1 and table.data(table.index(0, 0)) == "conv1.weight"
    panel.table.selectRow(0)
    shown = panel.image.getImageItem().image
    assert shown.shape == (3 * 5, 6 * 5) and abs(shown).max() == pytest.approx(0.5)
    panel.filter.setCurrentText("frozen")
    assert {table.data(table.index(r, 0)) for r in range(table.rowCount())} == {
        "conv1.weight", "conv1.bias"}


def test_delta_image_shapes():
    assert delta_image(torch.zeros(8, 3, 5, 5)).shape == (40, 15)
    assert delta_image(torch.zeros(10, 84)).shape == (10, 84)
    assert delta_image(torch.zeros(7)).shape == (1, 7)
