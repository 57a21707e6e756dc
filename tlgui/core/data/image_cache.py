"""Decoded images kept on disk so that later epochs skip JPEG decoding and resizing.

Each image is stored once as uint8 (H x W x 3, shorter side resized to the model's resize
size with its interpolation) in a ``.npy`` file that is read memory-mapped. The key is the
file's path, size and modification time plus the resize settings, so an edited photo or a
new model size is decoded afresh. The folder is bounded: past ``max_bytes`` the files used
longest ago are removed. Random crops, flips and normalisation then run on tensors
(:mod:`tlgui.core.data.batch_augment`), on the GPU when there is one.
"""

import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F

from tlgui.core.data.datasets import collate
from tlgui.core.data.image_check import open_rgb

PIL_MODES = {InterpolationMode.NEAREST: Image.Resampling.NEAREST,
             InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
             InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
             InterpolationMode.LANCZOS: Image.Resampling.LANCZOS}


@dataclass(frozen=True)
class ResizeSpec:
    short_side: int
    interpolation: InterpolationMode = InterpolationMode.BILINEAR

    @property
    def tag(self) -> str:
        return f"s{self.short_side}-{self.interpolation.value}"


def resize_shorter(image: Image.Image, spec: ResizeSpec) -> Image.Image:
    """What torchvision's ``Resize(int)`` does to a PIL image."""
    return F.resize(image, spec.short_side, interpolation=spec.interpolation)


class DecodedCache:
    """A bounded folder of decoded, resized images."""

    def __init__(self, folder: str | Path, spec: ResizeSpec, max_bytes: int = 4 * 2**30) -> None:
        self.folder = Path(folder) / spec.tag
        self.folder.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self.max_bytes = max_bytes
        self.hits = self.misses = self.damaged = 0
        self._written = 0

    def key(self, path: Path) -> str:
        stat = path.stat()
        text = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.spec.tag}"
        return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()

    def entry(self, path: str | Path) -> Path:
        return self.folder / f"{self.key(Path(path))}.npy"

    def get(self, path: str | Path) -> np.ndarray:
        """H x W x 3 uint8: from the cache, or decoded, resized and stored now."""
        try:
            pixels = np.load(self.entry(path), mmap_mode="r")
            if pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3:
                self.hits += 1
                return pixels
            self.damaged += 1
        except FileNotFoundError:
            pass
        except (ValueError, OSError):  # truncated or overwritten: decoded and stored again
            self.damaged += 1
        self.misses += 1
        pixels = np.asarray(resize_shorter(open_rgb(path), self.spec), dtype=np.uint8)
        self.put(path, pixels)
        return pixels

    def put(self, path: str | Path, pixels: np.ndarray) -> None:
        """Store H x W x 3 uint8 ``pixels`` as the decoded, resized ``path``."""
        entry = self.entry(path)
        temp = entry.with_name(f"{entry.stem}.{os.getpid()}.tmp.npy")
        np.save(temp, pixels)
        os.replace(temp, entry)
        self._written += pixels.nbytes
        if self._written > self.max_bytes // 20:  # check the bound now and then, not per file
            self._written = 0
            self.trim()

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.folder.glob("*.npy"))

    def trim(self) -> int:
        """Remove the files used longest ago until the folder fits ``max_bytes``."""
        files = sorted(self.folder.glob("*.npy"), key=lambda f: f.stat().st_atime)
        total = sum(f.stat().st_size for f in files)
        removed = 0
        for file in files:
            if total <= self.max_bytes:
                break
            total -= file.stat().st_size
            file.unlink(missing_ok=True)
            removed += 1
        return removed

    def describe(self) -> str:
        return (f"decoded-image cache {self.folder}: {self.size_bytes() / 2**20:,.0f} MB of "
                f"{self.max_bytes / 2**20:,.0f} MB")


@contextmanager
def single_threaded():
    """One intra-op thread for small per-image tensor work: spreading a 0.3 ms resize over
    threads that a busy machine shares costs several times more than it saves."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class CachedImages(Dataset):
    """(uint8 C x H x W crop, label, index) per file: ``crop`` makes the fixed size (a random
    resized crop for training, the centre crop for evaluation), or picks the random region
    that the GPU resizes (then ``collate`` is :func:`~tlgui.core.data.datasets.collate_regions`);
    a file that fails to decode gives (None, label, index), as
    :class:`~tlgui.core.data.datasets.ImageFiles` does."""

    def __init__(self, samples, cache: DecodedCache, crop, collate=collate) -> None:
        self.samples = list(samples)
        self.cache = cache
        self.crop = crop
        self.collate = collate

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        try:
            pixels = self.cache.get(path)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            return None, label, index
        with single_threaded():
            return self.crop(torch.from_numpy(np.array(pixels)).permute(2, 0, 1)), label, index
