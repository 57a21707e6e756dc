import json

import pytest
from PIL import Image

from tlgui.cli import main
from tlgui.core.data.data_index import DataError, index_folder
from tlgui.core.data.image_check import conversion_notes, find_bad_files, full_check, quick_check

from .helpers import make_image_folder, write_broken_files


def test_train_val_layout_counts_and_labels(tmp_path):
    root = make_image_folder(tmp_path, per_class=3, val_per_class=2)
    index = index_folder(root)
    assert index.layout == "folders" and index.classes == ["blue", "red"]
    assert index.counts() == {"train": {"blue": 3, "red": 3}, "valid": {"blue": 2, "red": 2}}
    assert index.splits["train"][0][0].name == "blue_0.jpg" and index.splits["train"][0][1] == 0


def test_single_folder_is_split_stratified_and_reproducibly(tmp_path):
    make_image_folder(tmp_path, per_class=10, val_per_class=0)
    single = tmp_path / "train"
    first = index_folder(single, split_ratio=0.3, seed=1)
    assert first.layout == "split"
    assert first.counts() == {"train": {"blue": 7, "red": 7}, "valid": {"blue": 3, "red": 3}}
    assert index_folder(single, split_ratio=0.3, seed=1).splits == first.splits
    assert index_folder(single, split_ratio=0.3, seed=2).splits != first.splits
    with pytest.raises(DataError, match="between 0 and 1"):
        index_folder(single, split_ratio=1.5)


def test_csv_layout_and_warnings(tmp_path):
    make_image_folder(tmp_path / "imgs", per_class=2, val_per_class=1)
    (tmp_path / "labels.csv").write_text(
        "path,label,split\nimgs/train/red/red_0.jpg,red,train\nimgs/train/blue/blue_0.jpg,blue,"
        "\nimgs/val/red/red_0.jpg,red,val\n")
    index = index_folder(tmp_path / "labels.csv")
    assert index.layout == "csv" and index.classes == ["blue", "red"]
    assert index.counts()["valid"] == {"blue": 0, "red": 1}
    assert any("valid/blue is nearly empty" in w for w in index.warnings)


def test_missing_class_folder_and_bad_roots_are_explained(tmp_path):
    root = make_image_folder(tmp_path / "a", per_class=3, val_per_class=2)
    for f in (root / "val" / "red").iterdir():
        f.unlink()
    (root / "val" / "red").rmdir()
    assert any("val" not in w or "red" in w for w in index_folder(root).warnings)
    with pytest.raises(DataError, match="not found"):
        index_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="neither train/"):
        index_folder(tmp_path / "empty")


def test_broken_files_each_get_a_reason(tmp_path):
    reasons = write_broken_files(tmp_path)
    found = find_bad_files(sorted(tmp_path.iterdir()), full=True)
    assert {p.name for p in found} == set(reasons)
    for path, reason in found.items():
        assert reasons[path.name].lower() in reason.lower(), (path.name, reason)
    assert quick_check(tmp_path / "cut.jpg") is not None, "cut inside the header already"


def test_decompression_bomb_and_huge_images_are_refused(tmp_path, monkeypatch):
    big = tmp_path / "big.png"
    Image.new("L", (3000, 3000)).save(big)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    assert "decompression bomb" in quick_check(big)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    monkeypatch.setattr("tlgui.core.data.image_check.HUGE_PIXELS", 4_000_000)
    assert "huge image (3000x3000)" in quick_check(big)
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (40, 40), (10, 20, 30, 0)).save(cmyk)
    assert full_check(cmyk) is None, "CMYK photos are converted, not rejected"
    Image.new("RGBA", (40, 40)).save(tmp_path / "alpha.png")
    Image.new("I;16", (40, 40)).save(tmp_path / "deep.png")
    notes = {p.name: n for p, n in conversion_notes(sorted(tmp_path.iterdir())).items()}
    assert notes["cmyk.jpg"] == "converted to RGB from CMYK (CMYK)"
    assert "alpha" in notes["alpha.png"] and "grey" in notes["deep.png"]
    assert "big.png" in notes  # greyscale


def test_data_command_on_the_real_set(shared_data, capsys):
    assert main(["data", str(shared_data), "--check", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["classes"] == ["ants", "bees"]
    assert doc["counts"] == {"train": {"ants": 124, "bees": 121}, "valid": {"ants": 70, "bees": 83}}
    gif = str(shared_data / "train" / "ants" / "imageNotFound.gif")
    assert list(doc["bad_files"]) == [gif] and "placeholder" in doc["bad_files"][gif]


def test_data_command_text_output(tmp_path, capsys):
    root = make_image_folder(tmp_path, per_class=2, val_per_class=1)
    write_broken_files(root / "train" / "red")
    assert main(["data", str(root), "--check"]) == 0
    out = capsys.readouterr().out
    assert "layout 'folders', 2 classes" in out and "checked 10 images: 4 bad" in out
