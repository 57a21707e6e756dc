"""Thumbnails decoded off the GUI thread by two worker threads, newest requests first, kept
in a bounded memory cache and, between runs, in one SQLite file of small JPEGs."""

import io
import threading
from collections import OrderedDict, deque
from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from tlgui.core.data.thumbnail_store import ThumbnailStore
from tlgui.core.files import cache_home

THUMB_SIZE = 96
MEMORY_ITEMS = 1500  # about 30 KB each at 96x96
STORE_FILE = "thumbnails.sqlite"  # small JPEGs, one file (core/data/thumbnail_store.py)
JPEG_QUALITY = 75  # about 2.5 KB a 96-pixel photo thumbnail; the same as a PNG is 8 KB
QUEUE_LIMIT = 512  # older requests are dropped: they scrolled out of view


def default_cache_dir() -> Path:
    return cache_home() / "thumbnails"


def thumbnail_picture(path: str, size: int = THUMB_SIZE) -> Image.Image:
    """A ``size`` x ``size`` RGB picture centred on white (every grid cell lines up), turned
    as its EXIF orientation says; JPEGs decode at reduced scale (draft)."""
    with Image.open(path) as image:
        image.draft("RGB", (size * 2, size * 2))
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((size, size))
        picture = upright.convert("RGB")
    rgb = Image.new("RGB", (size, size), (255, 255, 255))
    rgb.paste(picture, ((size - picture.width) // 2, (size - picture.height) // 2))
    return rgb


def to_qimage(rgb: Image.Image) -> QImage:
    return QImage(rgb.tobytes(), rgb.width, rgb.height, rgb.width * 3,
                  QImage.Format.Format_RGB888).copy()


class _Signals(QObject):
    ready = Signal(str, QImage)
    failed = Signal(str, str)


class ThumbnailLoader(QObject):
    """``get(path)`` returns a cached QImage or None and queues a decode; ``ready(path,
    image)`` fires on the GUI thread when one arrives, ``failed(path, reason)`` if not."""

    ready = Signal(str, QImage)
    failed = Signal(str, str)

    def __init__(self, cache_dir: Path | None = None, threads: int = 2, parent=None,
                 size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self.size = size
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.store = ThumbnailStore(self.cache_dir / STORE_FILE)
        self.memory: OrderedDict[str, QImage] = OrderedDict()
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._wake = threading.Condition()
        self._closing = False
        self._signals = _Signals()
        self._signals.ready.connect(self._store)
        self._signals.failed.connect(self._on_failed)
        self._bad: dict[str, str] = {}
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"thumbs-{i}")
                         for i in range(threads)]
        for thread in self._threads:
            thread.start()

    def get(self, path: str) -> QImage | None:
        image = self.memory.get(path)
        if image is not None:
            self.memory.move_to_end(path)
            return image
        if path in self._bad:
            return None
        with self._wake:
            if path not in self._queued:
                self._queue.append(path)
                self._queued.add(path)
                while len(self._queue) > QUEUE_LIMIT:
                    self._queued.discard(self._queue.popleft())
                self._wake.notify()
        return None

    def _work(self) -> None:
        """A decoding thread: newest request first (what is on screen now)."""
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if self._closing:
                    return
                path = self._queue.pop()
                self._queued.discard(path)
            self.produce(path)

    def produce(self, path: str) -> None:
        """Runs on a pool thread: the disk cache's JPEG, or a fresh decode stored there."""
        try:
            key = self.store.key(path, self.size)
            jpeg = self.store.get(key)
            image = QImage.fromData(jpeg, "JPG") if jpeg else QImage()
            if image.isNull():
                picture = thumbnail_picture(path, self.size)
                image = to_qimage(picture)
                buffer = io.BytesIO()
                picture.save(buffer, "JPEG", quality=JPEG_QUALITY)
                self.store.put(key, buffer.getvalue())
        except Exception as exc:  # every unreadable file is reported, none is fatal
            self._signals.failed.emit(path, f"{type(exc).__name__}: {exc}")
            return
        self._signals.ready.emit(path, image)

    def _store(self, path: str, image: QImage) -> None:
        self.memory[path] = image
        while len(self.memory) > MEMORY_ITEMS:
            self.memory.popitem(last=False)
        self.ready.emit(path, image)

    def failure(self, path: str) -> str | None:
        """Why ``path`` has no thumbnail, or None."""
        return self._bad.get(path)

    def _on_failed(self, path: str, reason: str) -> None:
        self._bad[path] = reason
        self.failed.emit(path, reason)

    def shutdown(self) -> None:
        with self._wake:
            self._closing = True
            self._queue.clear()
            self._queued.clear()
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(5)
