"""The Map dock: compute the embedding map of the open data set on a worker thread, one
scatter item per colour, hover shows the image under the pointer, a lasso picks a group
that the Dataset dock then shows alone."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF

from tlgui.qt.data.image_list_model import PathRole
from tlgui.qt.main_window import MainWindow

from .helpers import make_image_folder


@pytest.fixture
def mapped(qtbot, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.open_model("builtin:cifar_net", "none").done, timeout=60_000):
        pass
    data = make_image_folder(tmp_path / "data", per_class=10, val_per_class=4,
                             classes=("blue", "green", "red"))
    with qtbot.waitSignal(win.dataset.index_ready, timeout=30_000):
        win.dataset.open_folder(str(data))
    win.docks["Map"].raise_()
    panel = win.map
    assert panel.views.empty
    with qtbot.waitSignal(panel.computed, timeout=120_000):
        panel.compute_button.click()
    yield win, panel
    win.close()


def scatter_items(panel):
    return [i for i in panel.plot.listDataItems() if isinstance(i, pg.ScatterPlotItem)
            and i not in (panel.highlight, panel.ring)]


def test_one_scatter_item_per_colour_and_hover_shows_the_image(mapped, qtbot):
    win, panel = mapped
    assert not panel.views.empty and len(panel.map.paths) == 42
    assert sorted(i.name() for i in scatter_items(panel)) == [
        "blue (14)", "green (14)", "red (14)"]
    panel.colour.setCurrentText("split")
    assert sorted(i.name() for i in scatter_items(panel)) == ["train (30)", "val (12)"]
    panel.colour.setCurrentText("correct or wrong")
    assert sum(len(i.data) for i in scatter_items(panel)) == 42
    target = 7
    x, y = panel.map.xy[target]
    panel._hover(panel.view.mapViewToScene(QPointF(float(x), float(y))))
    assert np.allclose(panel.map.xy[panel.hovered], panel.map.xy[target])  # ties: same place
    ring = panel.ring.data
    assert len(ring) == 1 and np.allclose((ring[0]["x"], ring[0]["y"]), panel.map.xy[target])
    name = panel.map.paths[panel.hovered].split("/")[-1]
    assert name in panel.preview_text.text()
    qtbot.waitUntil(lambda: not panel.preview.pixmap().isNull(), timeout=10_000)


def test_a_lasso_picks_a_group_for_the_dataset_dock(mapped, qtbot):
    win, panel = mapped
    xy = panel.map.xy
    low, high = np.percentile(xy, 20, axis=0), np.percentile(xy, 80, axis=0)
    box = np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]], [low[0], high[1]]])
    panel.view.lassoed.emit(box)
    expected = {panel.map.paths[i] for i in range(len(xy))
                if low[0] < xy[i, 0] < high[0] and low[1] < xy[i, 1] < high[1]}
    assert expected and {panel.map.paths[i] for i in panel.chosen} == expected
    assert panel.show_button.isEnabled() and f"{len(expected)}" in panel.show_button.text()
    panel.show_button.click()
    grid = win.dataset.model
    shown = {grid.index(r, 0).data(PathRole) for r in range(grid.rowCount())}
    assert {str(p) for p in shown} == expected
    assert win.dataset.show_all.isVisible()
    win.dataset.show_all.click()
    assert grid.rowCount() == 42 and not win.dataset.show_all.isVisible()
