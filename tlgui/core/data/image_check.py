"""Finding bad image files: empty, not an image, truncated, placeholders, bombs, huge.

``quick_check`` reads the header only (plus a small decode for palette images, to spot
placeholder graphics); ``full_check`` decodes every pixel.
"""

import warnings
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError

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
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if size == 0:
        return "empty file (0 bytes)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > HUGE_PIXELS:
                    return f"huge image ({width}x{height}); resize it below {HUGE_PIXELS:,} pixels"
                if min(width, height) < MIN_SIDE:
                    return f"too small to learn from ({width}x{height} pixels)"
                if image.mode == "P" or image.format == "GIF":
                    return _placeholder_reason(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return f"refused as a decompression bomb: {exc}"
    except UnidentifiedImageError:
        return f"not an image ({_sniff(path)})"
    except (OSError, ValueError, SyntaxError) as exc:
        return f"unreadable image: {exc}"
    return None


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
    if reason is not None:
        return reason
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
    return f"converted to RGB from {CONVERTED_MODES[mode]} ({mode})" \
        if mode in CONVERTED_MODES else None


def conversion_notes(paths: Iterable[Path]) -> dict[Path, str]:
    """Files that are usable but converted when loaded, with what is converted."""
    return {Path(p): note for p in paths if (note := conversion_note(p)) is not None}


def find_bad_files(paths: Iterable[Path], *, full: bool = False) -> dict[Path, str]:
    """Bad files among ``paths`` with their reasons."""
    check = full_check if full else quick_check
    out = {}
    for path in paths:
        reason = check(path)
        if reason is not None:
            out[Path(path)] = reason
    return out
