"""Filling the decoded-image cache with JPEGs decoded on the GPU (nvJPEG, through
torchvision's ``decode_jpeg(..., device="cuda")``), a batch at a time, before the first epoch.

Only the JPEGs that are not cached yet are read; each batch is decoded together, resized on
the device (shorter side, antialiased, as the cache's settings say) and stored as the CPU
path would store it. A file the GPU decoder refuses (CMYK, broken, not really a JPEG) is
left to the CPU path, which decodes it or reports it as skipped. The pixels differ slightly
from Pillow's (another IDCT and resize kernel), so this is a choice (``gpu_decode``), not
the default.
"""

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.io import ImageReadMode, decode_jpeg, read_file
from torchvision.transforms.v2 import functional as F

from tlgui.core.data.image_cache import DecodedCache

JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")


@dataclass
class FillReport:
    decoded: int = 0  # stored by this fill
    cached: int = 0  # already there
    left: int = 0  # left to the CPU path: not JPEG, or refused by the GPU decoder
    seconds: float = 0.0

    def describe(self, device: torch.device) -> str:
        rate = self.decoded / max(self.seconds, 1e-9)
        return (f"decoded {self.decoded:,} JPEGs on {device.type} into the image cache in "
                f"{self.seconds:.1f} s ({rate:,.0f} images/s); {self.cached:,} were cached "
                f"already, {self.left:,} left to the CPU")


def fill_cache(cache: DecodedCache, paths: Sequence[str | Path], device: torch.device,
               batch_size: int = 64, should_stop: Callable[[], bool] = lambda: False
               ) -> FillReport:
    """Decode and store every JPEG of ``paths`` that ``cache`` lacks, on ``device``."""
    report, start = FillReport(), time.perf_counter()
    todo = []
    for path in map(Path, paths):
        if path.suffix.lower() not in JPEG_SUFFIXES:
            report.left += 1
        elif cache.entry(path).exists():
            report.cached += 1
        else:
            todo.append(path)
    for first in range(0, len(todo), batch_size):
        if should_stop():
            break
        chunk = todo[first:first + batch_size]
        for path, image in zip(chunk, _decode(chunk, device), strict=True):
            if image is None:
                report.left += 1
                continue
            resized = F.resize(image, [cache.spec.short_side], antialias=True,
                               interpolation=cache.spec.interpolation)
            cache.put(path, resized.permute(1, 2, 0).cpu().numpy())
            report.decoded += 1
    report.seconds = time.perf_counter() - start
    return report


def _decode(paths: list[Path], device: torch.device) -> list[torch.Tensor | None]:
    """One batched decode; when the batch fails, file by file, None for each refused one.
    torchvision 0.29 marks its decoders deprecated in favour of TorchCodec, which the GPU
    machines here do not have; they still work, and the warning would repeat per batch."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torchvision")
        return _decode_batch(paths, device)


def _decode_batch(paths: list[Path], device: torch.device) -> list[torch.Tensor | None]:
    data = []
    for path in paths:
        try:
            data.append(read_file(str(path)))
        except (OSError, RuntimeError):
            data.append(None)
    readable = [d for d in data if d is not None]
    if not readable:
        return data
    try:
        decoded = iter(decode_jpeg(readable, mode=ImageReadMode.RGB, device=device))
        return [next(decoded) if d is not None else None for d in data]
    except torch.cuda.OutOfMemoryError:  # a RuntimeError too, but no file's fault
        raise
    except RuntimeError:
        return [_decode_one(d, device) if d is not None else None for d in data]


def _decode_one(data: torch.Tensor, device: torch.device) -> torch.Tensor | None:
    try:
        return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)
    except torch.cuda.OutOfMemoryError:
        raise
    except RuntimeError:
        return None
