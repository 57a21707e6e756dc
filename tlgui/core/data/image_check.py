"""Finding bad image files: empty, not an image, truncated, placeholders, bombs, huge.

``quick_check`` reads the header only (plus a small decode for palette images, to spot
placeholder graphics); ``full_check`` decodes every pixel.
"""

import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tlgui.core.data.samples import Samples, path_strings

# Photos have hundreds of colours even at 128x128; "image not found" graphics have a few dozen.
PLACEHOLDER_MAX_COLOURS = 64
HUGE_PIXELS = 50_000_000
MIN_SIDE = 8


def open_rgb(path: str | Path) -> Image.Image:
    """Open an image file as RGB, fully decoded (so a truncated file fails here)."""
    with Image.open(path) as image:
        image.load()
        return image.convert("RGB")


def quick_check(path: str | Path) -> str | None:
    """Why ``path`` is unusable as a training image, or None when its header looks fine."""
    return header_check(path)[0]


def header_check(path: str | Path) -> tuple[str | None, str | None]:
    """(why ``path`` is unusable or None, its image mode when it opened), from the header."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}", None
    if size == 0:
        return "empty file (0 bytes)", None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > HUGE_PIXELS:
                    return (f"huge image ({width}x{height}); resize it below {HUGE_PIXELS:,} "
                            "pixels"), image.mode
                if min(width, height) < MIN_SIDE:
                    return f"too small to learn from ({width}x{height} pixels)", image.mode
                if image.mode == "P" or image.format == "GIF":
                    return _placeholder_reason(image), image.mode
                return None, image.mode
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return f"refused as a decompression bomb: {exc}", None
    except UnidentifiedImageError:
        return f"not an image ({_sniff(path)})", None
    except (OSError, ValueError, SyntaxError) as exc:
        return f"unreadable image: {exc}", None


def _placeholder_reason(image: Image.Image) -> str | None:
    thumb = image.convert("RGB")
    thumb.thumbnail((128, 128), Image.Resampling.NEAREST)  # nearest: no blended colours
    colours = thumb.getcolors(PLACEHOLDER_MAX_COLOURS)
    if colours is not None:
        return (f"placeholder graphic, not a photo ({image.format}, only {len(colours)} "
                "colours)")
    return None


def _sniff(path: Path) -> str:
    head = path.read_bytes()[:64]
    if head.lstrip().startswith((b"<!DOCTYPE", b"<html", b"<HTML")):
        return "an HTML page, probably a failed download"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "a text file"
    return "unknown format"


def full_check(path: str | Path) -> str | None:
    """Like :func:`quick_check`, then decodes every pixel (finds truncated files)."""
    reason = quick_check(path)
    return reason if reason is not None else decode_check(path)


def decode_check(path: str | Path) -> str | None:
    """Why every pixel of ``path`` cannot be decoded, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        return f"truncated or corrupt image data: {exc}"
    return None


CONVERTED_MODES = {
    "CMYK": "CMYK", "I;16": "16-bit grey", "I;16B": "16-bit grey", "I": "32-bit grey",
    "F": "floating-point grey", "P": "palette", "PA": "palette with alpha", "RGBA": "alpha",
    "LA": "grey with alpha", "L": "greyscale", "1": "black-and-white", "YCbCr": "YCbCr",
}


def conversion_note(path: str | Path) -> str | None:
    """What loading ``path`` as RGB converts (CMYK, 16-bit, palette, alpha ...), or None."""
    try:
        with Image.open(path) as image:
            mode = image.mode
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return mode_note(mode)


def mode_note(mode: str | None) -> str | None:
    return f"converted to RGB from {CONVERTED_MODES[mode]} ({mode})" \
        if mode in CONVERTED_MODES else None


def conversion_notes(paths: Iterable[Path]) -> dict[Path, str]:
    """Files that are usable but converted when loaded, with what is converted."""
    return {Path(p): note for p in paths if (note := conversion_note(p)) is not None}


@dataclass
class FileCheck:
    """What a pass over the files found: unusable files and converted ones, with why;
    ``checked`` of ``total`` when a stop ended it early."""

    bad: dict[Path, str] = field(default_factory=dict)
    notes: dict[Path, str] = field(default_factory=dict)
    checked: int = 0
    total: int = 0


def check_files(paths: Iterable[str | Path], *, full: bool = False,
                progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                every: int = 2000, total: int | None = None) -> FileCheck:
    """Headers (or, with ``full``, every pixel) of ``paths`` (``total`` of them, when they
    come as they are made); ``progress(done, total)`` every ``every`` files; ``should_stop``
    ends the pass where it is."""
    found = FileCheck(total=len(paths) if total is None else total)
    for number, path in enumerate(paths):
        if number % every == 0:
            if should_stop is not None and should_stop():
                break
            if progress is not None:
                progress(number, found.total)
        time.sleep(0)  # the interpreter to a waiting thread (the GUI's) between files
        reason, mode = header_check(path)
        if reason is None and full:
            reason = decode_check(path)
        if reason is not None:
            found.bad[Path(path)] = reason
        elif (note := mode_note(mode)) is not None:
            found.notes[Path(path)] = note
        found.checked = number + 1
    return found


def find_bad_files(paths: Iterable[Path], *, full: bool = False) -> dict[Path, str]:
    """Bad files among ``paths`` with their reasons."""
    return check_files(list(paths), full=full).bad


def usable(samples: Sequence[tuple[Path, int]], known: Mapping[str, str] | None = None
           ) -> tuple[Sequence[tuple[Path, int]], dict[Path, str]]:
    """``samples`` less their bad files, and those files with why. ``known`` is a header
    check of every file of the index they come from (the Dataset dock's, by path): then
    no file is opened again. Without it, every header is checked now."""
    if known is None:
        bad = find_bad_files(map(Path, path_strings(samples)))
        names = {str(path) for path in bad}
    else:
        names = set(known)
    if not names:
        return samples, {}
    keep = np.fromiter((path not in names for path in path_strings(samples)), bool,
                       count=len(samples))
    if keep.all():  # the bad files are all in other splits
        return samples, {}
    if known is not None:
        bad = {Path(path): known[path] for path in compress(path_strings(samples), ~keep)}
    if isinstance(samples, Samples):
        return Samples(samples.folders, samples.folder_of[keep],
                       list(compress(samples.names, keep)), samples.labels[keep]), bad
    return [sample for sample, kept in zip(samples, keep, strict=True) if kept], bad
