"""Issue 6: the dataset browser — filtering, class chart, augmentation preview, bad files."""

import pytest
from PySide6.QtCore import Qt

from tlgui.core.data.datasets import train_transform
from tlgui.core.model.sources import load_model
from tlgui.qt.data.dataset_panel import DatasetPanel
from tlgui.qt.data.image_list_model import PathRole

from .helpers import make_image_folder, write_broken_files


@pytest.fixture(scope="module")
def transforms():
    evaluation = load_model("builtin:vgg64", "none").transform
    return train_transform(evaluation, "light"), evaluation


@pytest.fixture
def panel(qtbot, tmp_path, transforms):
    data = make_image_folder(tmp_path / "data", per_class=5, val_per_class=2,
                             classes=("blue", "green", "red"))
    reasons = write_broken_files(data / "train" / "red")
    widget = DatasetPanel(transforms=lambda: transforms, thumbnail_dir=tmp_path / "thumbs")
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    with qtbot.waitSignal(widget.bad_files_ready, timeout=30_000):
        widget.open_folder(str(data))
    widget.reasons = reasons
    yield widget
    widget.shutdown()


def shown_paths(panel) -> list[str]:
    model = panel.model
    return [model.data(model.index(r), PathRole) for r in range(model.rowCount())]


def test_filters_by_split_class_and_name(panel):
    model = panel.model
    assert model.rowCount() == 15 + 6 + 4  # 3 classes x (5 train + 2 val) + 4 broken files
    panel.split.setCurrentText("valid")
    assert model.rowCount() == 6
    panel.class_box.setCurrentText("green")
    assert model.rowCount() == 2
    assert all("/val/green/" in p for p in shown_paths(panel))
    assert model.data(model.index(0)) == "green"
    panel.split.setCurrentText("all")
    panel.class_box.setCurrentText("all")
    panel.search.setText("red_1")
    assert [p.rsplit("/", 1)[1] for p in shown_paths(panel)] == ["red_1.jpg", "red_1.jpg"]


def test_class_chart_has_one_bar_set_per_split(panel):
    from pyqtgraph import BarGraphItem

    bars = [item for item in panel.chart.getPlotItem().items if isinstance(item, BarGraphItem)]
    assert len(bars) == 2
    heights = sorted(list(b.opts["height"]) for b in bars)
    assert heights == [[2, 2, 2], [5, 5, 9]]  # red train holds the 4 broken files too
    ticks = panel.chart.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == ["blue", "green", "red"]


def test_bad_files_are_listed_with_reasons(panel):
    listed = [panel.bad_list.item(i).text() for i in range(panel.bad_list.count())]
    for name, word in panel.reasons.items():
        if name == "cut.jpg":
            continue  # a truncated file passes the quick header check; training skips it
        assert any(name in line and word.lower() in line.lower() for line in listed), name
    assert any("missing.gif" in line and "placeholder" in line for line in listed)


def test_thumbnails_arrive_and_broken_ones_are_marked(panel, qtbot):
    model = panel.model
    for row in range(model.rowCount()):
        model.data(model.index(row), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: len(panel.loader.memory) >= 21, timeout=30_000)
    row = shown_paths(panel).index(next(p for p in shown_paths(panel) if p.endswith("empty.jpg")))
    qtbot.waitUntil(lambda: model.data(model.index(row), Qt.ItemDataRole.DecorationRole)
                    .cacheKey() == model.broken.cacheKey(), timeout=30_000)
    good = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert good.width() <= 96 and good.height() <= 96 and not good.isNull()
    assert len(panel.loader.store) >= 20, "thumbnails are kept on disk"


def test_augmentation_preview_shows_train_draws_and_eval(panel):
    panel.grid.setCurrentIndex(panel.model.index(0))
    tiles = panel.preview.tiles
    assert all(not tile.pixmap().isNull() for tile in tiles)
    assert "eval transform (64x64)" in panel.preview.caption.text()
    broken = next(p for p in shown_paths(panel) if p.endswith("page.jpg"))
    assert not panel.preview.show_image(broken)
    assert "Cannot read" in panel.preview.caption.text()
