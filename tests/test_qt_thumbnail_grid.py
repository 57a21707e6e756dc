"""Issue 19: the thumbnail grid, a table of fixed cells over the flat list of files."""

import pytest
from PySide6.QtCore import QSize

from tlgui.core.data.listing import Listing
from tlgui.qt.data.image_list_model import ImageListModel
from tlgui.qt.data.thumbnail_grid import GridModel, ThumbnailGrid
from tlgui.qt.data.thumbnails import ThumbnailLoader

CELL = QSize(100, 120)


@pytest.fixture
def files(qtbot, tmp_path):
    loader = ThumbnailLoader(cache_dir=tmp_path / "thumbs")
    model = ImageListModel(loader)
    listing = Listing(["cat", "dog"])
    listing.add("train", 0, str(tmp_path), [f"cat_{i:03d}.jpg" for i in range(10)])
    model.set_listing(listing)
    yield model
    loader.shutdown()


def test_cells_map_to_list_rows_and_the_last_row_may_be_part_full(files):
    grid = GridModel(files)
    grid.set_columns(3)
    assert (grid.rowCount(), grid.columnCount()) == (4, 3)
    assert [grid.flat(grid.index(r, c)) for r in (0, 3) for c in range(3)] == [0, 1, 2, 9, -1, -1]
    cell = grid.cell(7)
    assert (cell.row(), cell.column()) == (2, 1) and grid.flat(cell) == 7
    assert grid.data(grid.index(3, 0)) == "cat" and grid.data(grid.index(3, 1)) is None
    assert not grid.flags(grid.index(3, 2)), "an empty cell cannot be picked"
    grid.set_columns(4)
    assert grid.rowCount() == 3 and grid.flat(grid.cell(9)) == 9


def test_files_added_while_scanning_fill_the_last_row_then_add_rows(files, tmp_path):
    grid = GridModel(files)
    grid.set_columns(4)
    inserted, changed = [], []
    grid.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    grid.dataChanged.connect(lambda top, bottom, _roles: changed.append((top.row(), bottom.row())))
    files.add("train", 1, str(tmp_path), ["dog_0.jpg", "dog_1.jpg"])  # 12: fills row 2
    assert inserted == [] and changed == [(2, 2)] and grid.rowCount() == 3
    files.add("train", 1, str(tmp_path), [f"dog_{i}.jpg" for i in range(2, 7)])  # 17
    assert inserted == [(3, 4)] and changed == [(2, 2)] and grid.rowCount() == 5
    assert grid.data(grid.cell(16)) == "dog" and grid.flat(grid.index(4, 1)) == -1


def test_the_grid_fits_its_width_and_keeps_the_current_file(files, qtbot):
    view = ThumbnailGrid(files, CELL, QSize(64, 64))
    qtbot.addWidget(view)
    view.resize(3 * CELL.width() + 40, 2 * CELL.height() + 10)
    view.show()
    qtbot.waitUntil(lambda: view.grid_model.columns == 3)
    assert view.visible_rows() == range(0, 9), "three rows of three cells are in view"
    assert 0 <= view.viewport().width() - 3 * view.columnWidth(0) < 3, "no gap at the right"
    heard = []
    view.current_changed.connect(heard.append)
    view.set_current_row(7)
    assert view.current_row() == 7 and heard == [7]
    view.resize(4 * CELL.width() + 40, 2 * CELL.height() + 10)
    qtbot.waitUntil(lambda: view.grid_model.columns == 4)
    assert view.current_row() == 7
    cell = view.grid_model.cell(7)
    assert (cell.row(), cell.column()) == (1, 3)
    opened = []
    view.activated_row.connect(opened.append)
    view.activated.emit(cell)
    view.activated.emit(view.grid_model.index(2, 2))  # the empty cell after file 9
    assert opened == [7]
