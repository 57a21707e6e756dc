"""Thumbnails on disk: one SQLite file of small JPEGs, keyed so a changed file is made
again, bounded, read back by the next run without decoding, upright as EXIF says, and
started afresh when the file is damaged."""

import io

import pytest
from PIL import Image

from tlgui.core.data.thumbnail_store import ThumbnailStore


def jpeg_bytes(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_a_thumbnail_is_read_back_and_a_changed_file_gets_a_new_key(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg_bytes())
    store = ThumbnailStore(tmp_path / "cache" / "t.sqlite")
    key = store.key(str(photo), 96)
    store.put(key, jpeg_bytes())
    assert store.get(key) == jpeg_bytes() and len(store) == 1
    assert len(jpeg_bytes()) < 2000  # a small JPEG, not a 9 KB PNG
    photo.write_bytes(jpeg_bytes((0, 0, 255)) + b"\0")
    assert store.key(str(photo), 96) != key and store.key(str(photo), 150) != store.key(
        str(photo), 96)


def test_the_store_keeps_at_most_its_bound(tmp_path, monkeypatch):
    import tlgui.core.data.thumbnail_store as module

    monkeypatch.setattr(module, "EVICT_EVERY", 10)
    store = ThumbnailStore(tmp_path / "t.sqlite", max_entries=25)
    for i in range(60):
        store.put(f"k{i}", b"x")
    assert len(store) <= 25 + 10 and store.get("k59") == b"x" and store.get("k0") is None
    store.evict()
    assert len(store) == 25


def test_a_damaged_store_is_set_aside_and_started_again(tmp_path):
    path = tmp_path / "t.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = ThumbnailStore(path)
    store.put("k", b"jpeg")
    assert store.get("k") == b"jpeg"
    assert (tmp_path / "t.damaged").exists()


@pytest.fixture
def qapp_loader(qtbot, tmp_path):
    from tlgui.qt.data.thumbnails import ThumbnailLoader

    loaders = []

    def make():
        loader = ThumbnailLoader(cache_dir=tmp_path / "thumbs")
        loaders.append(loader)
        return loader

    yield make
    for loader in loaders:
        loader.shutdown()


def test_the_next_run_reads_thumbnails_without_decoding_and_exif_is_applied(
        qapp_loader, tmp_path, monkeypatch):
    import tlgui.qt.data.thumbnails as thumbnails

    photo = tmp_path / "turned.jpg"
    wide = Image.new("RGB", (80, 40), (20, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to show
    wide.save(photo, "JPEG", exif=exif.tobytes())
    first = qapp_loader()
    first.produce(str(photo))
    image = first.store.get(first.store.key(str(photo), first.size))
    picture = Image.open(io.BytesIO(image))
    assert picture.getpixel((4, 48))[0] > 200, "left margin is white: the picture stands up"
    assert picture.getpixel((48, 48))[0] < 80
    monkeypatch.setattr(thumbnails, "thumbnail_picture",
                        lambda *a: (_ for _ in ()).throw(AssertionError("decoded again")))
    second = qapp_loader()
    got = []
    second._signals.ready.connect(lambda path, img: got.append(img))
    second.produce(str(photo))
    assert got and got[0].width() == 96 and not got[0].isNull()
