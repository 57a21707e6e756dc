"""Issue 6: the dataset browser — filtering, class chart, augmentation preview, bad files."""

import threading

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
    assert panel.index.bad_files == panel.bad_files and len(panel.bad_files) >= 3, \
        "the index carries the check, so training and evaluation need not read headers again"


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
    panel.grid.set_current_row(0)
    tiles = panel.preview.tiles
    assert all(not tile.pixmap().isNull() for tile in tiles)
    assert "eval transform (64x64)" in panel.preview.caption.text()
    broken = next(p for p in shown_paths(panel) if p.endswith("page.jpg"))
    assert not panel.preview.show_image(broken)
    assert "Cannot read" in panel.preview.caption.text()


def test_files_show_while_the_scan_goes_on(qtbot, tmp_path, monkeypatch):
    from tlgui.core.data import data_index
    from tlgui.qt.data import dataset_panel

    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    monkeypatch.setattr(data_index, "FIRST_BATCH", 3)
    release = threading.Event()

    def held_scan(folder, **kwargs):
        found = kwargs["found"]

        def first_batch_then_wait(*batch):
            found(*batch)
            assert release.wait(30), "the test never let the scan go on"
        return data_index.index_folder(folder, found=first_batch_then_wait,
                                       should_stop=kwargs["should_stop"])

    monkeypatch.setattr(dataset_panel, "index_folder", held_scan)
    widget = DatasetPanel(thumbnail_dir=tmp_path / "thumbs")
    qtbot.addWidget(widget)
    widget.open_folder(str(data))
    qtbot.waitUntil(lambda: widget.model.rowCount() == 3, timeout=30_000)
    qtbot.waitUntil(lambda: "Scanning … 3 files so far" in widget.summary.text(), timeout=30_000)
    assert widget.index is None, "the index is not ready: the scan is still going"
    with qtbot.waitSignal(widget.bad_files_ready, timeout=30_000):
        release.set()
    assert widget.model.rowCount() == 16 and widget.summary.text().startswith("2 classes")
    assert shown_paths(widget)[:2] == [str(data / "train" / "blue" / f"blue_{i}.jpg")
                                       for i in (0, 1)], "sorted once the scan has ended"
    widget.shutdown()


def test_a_large_listing_is_filtered_off_the_gui_thread(panel, qtbot, monkeypatch):
    from tlgui.qt.data import dataset_panel

    monkeypatch.setattr(dataset_panel, "FILTER_IN_PLACE", 0)
    panel.search.setText("RED_1")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=30_000)
    assert all(p.endswith("red_1.jpg") for p in shown_paths(panel))
    panel.search.setText("")
    panel.class_box.setCurrentText("blue")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 7, timeout=30_000)


def test_the_header_check_can_be_stopped(qtbot, tmp_path, monkeypatch):
    from tlgui.qt.data import dataset_panel

    data = make_image_folder(tmp_path / "data", per_class=3, val_per_class=1)
    started = threading.Event()
    real = dataset_panel.check_files

    def waits_for_stop(paths, should_stop, progress, total):
        started.set()
        tries = 300  # 30 s at most
        while not should_stop() and tries:
            threading.Event().wait(0.1)
            tries -= 1
        return real(paths, should_stop=should_stop, progress=progress, total=total)

    monkeypatch.setattr(dataset_panel, "check_files", waits_for_stop)
    widget = DatasetPanel(thumbnail_dir=tmp_path / "thumbs")
    qtbot.addWidget(widget)
    widget.show()
    widget.open_folder(str(data))
    qtbot.waitUntil(started.is_set, timeout=30_000)
    assert not widget.bad_view.stop.isHidden()
    assert "Checking file headers" in widget.bad_view.status.text()
    with qtbot.waitSignal(widget.bad_files_ready, timeout=30_000):
        widget.bad_view.stop.click()
    assert "stopped after 0 of 8 files" in widget.bad_view.status.text()
    assert widget.index.bad_files is None, "a check stopped part-way is not the index's"
    assert widget.bad_view.stop.isHidden()
    widget.shutdown()
