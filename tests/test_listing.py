"""Issue 19: the index streams while it scans, holds files as columns, filters fast, and
the header check reports progress and stops."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlgui.core.data import data_index
from tlgui.core.data import listing as listing_module
from tlgui.core.data.data_index import index_folder
from tlgui.core.data.image_check import check_files
from tlgui.core.data.listing import Listing
from tlgui.core.data.samples import Samples

from .helpers import make_image_folder, write_broken_files


def test_samples_read_like_the_list_of_path_label_pairs(tmp_path):
    root = make_image_folder(tmp_path, per_class=3, val_per_class=1)
    train = index_folder(root).splits["train"]
    as_list = [(root / "train" / c / f"{c}_{i}.jpg", label)
               for label, c in enumerate(("blue", "red")) for i in range(3)]
    assert isinstance(train, Samples) and train == as_list and len(train) == 6
    assert list(train) == as_list and train[4] == as_list[4] and train[-1] == as_list[-1]
    assert train[1:3] == as_list[1:3] and isinstance(train[1:3], Samples)
    assert train + as_list[:1] == as_list + as_list[:1]
    assert as_list[:1] + train == as_list[:1] + as_list
    assert train != as_list[:5] and train != as_list[::-1]
    assert isinstance(train[0][0], Path) and isinstance(train[0][1], int)


def test_the_scan_tells_every_file_once_in_batches_and_ends_sorted(tmp_path, monkeypatch):
    monkeypatch.setattr(data_index, "FIRST_BATCH", 2)
    monkeypatch.setattr(data_index, "SORT_PIECE", 4)  # sorted in pieces, then merged
    root = make_image_folder(tmp_path, per_class=9, val_per_class=3)
    heard = []
    index = index_folder(root, found=lambda classes, split, label, folder, names:
                         heard.append((tuple(classes), split, label, folder, list(names))))
    assert [p.name for p, _ in index.splits["train"]] == \
        [f"{c}_{i}.jpg" for c in ("blue", "red") for i in range(9)]
    sizes = [len(names) for *_, names in heard if _[1] == "train" and _[2] == 0]
    assert sizes == [2, 4, 3], "batches double in size; the rest comes at the folder's end"
    told = sorted((split, str(Path(folder) / n), label) for _, split, label, folder, names
                  in heard for n in names)
    indexed = sorted((split, str(p), label) for split, samples in index.splits.items()
                     for p, label in samples)
    assert told == indexed and all(c == ("blue", "red") for c, *_ in heard)


def test_a_single_folder_streams_unsplit_and_is_split_as_before(tmp_path):
    make_image_folder(tmp_path, per_class=10, val_per_class=0)
    splits = set()
    index = index_folder(tmp_path / "train", split_ratio=0.3, seed=1,
                         found=lambda _c, split, *_rest: splits.add(split))
    assert splits == {None}, "files are not split until every one is listed"
    assert index.counts() == {"train": {"blue": 7, "red": 7}, "valid": {"blue": 3, "red": 3}}
    again = index_folder(tmp_path / "train", split_ratio=0.3, seed=1)
    assert again.splits == index.splits


def test_a_stopped_scan_ends_with_interrupted_error(tmp_path):
    root = make_image_folder(tmp_path, per_class=2, val_per_class=1)
    with pytest.raises(InterruptedError):
        index_folder(root, should_stop=lambda: True)


def test_listing_selects_by_split_class_and_name_in_any_case(tmp_path):
    root = make_image_folder(tmp_path, per_class=4, val_per_class=2, classes=("blue", "red"))
    (root / "train" / "red" / "İstanbul_RED.jpg").write_bytes(
        (root / "train" / "red" / "red_0.jpg").read_bytes())
    listing = Listing.of_index(index_folder(root))
    assert len(listing) == 13 and listing.counts()["valid"] == {"blue": 2, "red": 2}
    names = lambda rows: [Path(listing.path(i)).name for i in rows]  # noqa: E731
    assert names(listing.select("valid", "red")) == ["red_0.jpg", "red_1.jpg"]
    assert names(listing.select(text="RED_1")) == ["red_1.jpg", "red_1.jpg"]
    assert names(listing.select(text="stanbul_r")) == ["İstanbul_RED.jpg"], \
        "a letter that lower-cases to two keeps every later name in its place"
    assert names(listing.select(text="red_3")) == ["red_3.jpg"]
    assert names(listing.select(class_name="blue", text="_0", files=3)) == ["blue_0.jpg"]
    assert len(listing.select(split="test")) == 0 and len(listing.select(text="zebra")) == 0
    only = {listing.path(0), listing.path(12)}
    assert listing.select(only=only).tolist() == [0, 12]


def test_a_growing_listing_searches_what_it_holds_now():
    listing = Listing(["a", "b"])
    listing.add("train", 0, "/x", ["cat_1.jpg", "dog_1.jpg"])
    assert listing.select(text="_1").tolist() == [0, 1]
    listing.add(None, 1, "/y", ["cat_2.jpg"])
    assert listing.select(text="cat").tolist() == [0, 2]
    assert listing.split(2) is None and listing.path(2) == "/y/cat_2.jpg"
    assert listing.counts() == {"train": {"a": 2, "b": 0}, None: {"a": 0, "b": 1}}
    assert np.array_equal(listing.select(split="train"), [0, 1])


def test_names_are_searched_in_pieces_kept_while_the_listing_grows(monkeypatch):
    monkeypatch.setattr(listing_module, "SEARCH_PIECE", 3)
    listing = Listing(["a"])
    listing.add("train", 0, "/x", [f"{'İ' if i == 4 else ''}n_{i}.jpg" for i in range(5)])
    assert listing.select(text="n_").tolist() == [0, 1, 2, 3, 4]
    assert listing.select(text="_2.jpg").tolist() == [2]
    kept = dict(listing._pieces)
    assert list(kept) == [0], "the full piece is kept; the part-filled one is made again"
    listing.add("train", 0, "/y", [f"m_{i}.jpg" for i in range(2000)])
    assert listing._pieces[0] is kept[0]
    assert listing.select(text="i̇n_4").tolist() == [4], "a letter that grows stays in its name"
    assert listing.select(text="m_1999").tolist() == [2004]
    assert listing.select(text="m_1").size == 1111 and listing.select(text="_4").size == 112
    assert listing.labels.size == listing.folder_of.size == listing.splits.size == 2005
    assert listing.path(4) == "/x/İn_4.jpg" and listing.path(2004) == "/y/m_1999.jpg"


def test_the_header_check_reports_progress_and_stops_where_asked(tmp_path):
    reasons = write_broken_files(tmp_path / "bad")
    Image.new("CMYK", (32, 32)).save(tmp_path / "cmyk.jpg")
    paths = sorted((tmp_path / "bad").iterdir()) + [tmp_path / "cmyk.jpg"]
    heard = []
    found = check_files(paths, progress=lambda done, total: heard.append((done, total)),
                        every=2)
    assert heard == [(i, len(paths)) for i in range(0, len(paths), 2)]
    assert found.checked == found.total == len(paths)
    assert {p.name for p in found.bad} == set(reasons), "cut inside the header: found there"
    assert {p.name for p in found.notes} == {"cmyk.jpg"}
    asked = []
    stopped = check_files(paths, every=1, should_stop=lambda: asked.append(1) or len(asked) > 3)
    assert stopped.checked == 3 and stopped.total == len(paths)
