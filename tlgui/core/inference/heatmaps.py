"""Heatmaps back in the image's own pixels: the part of an image an eval transform feeds the
model, a map's peak there, and the overlay of a map on the image."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from torchvision import transforms as T

Box = tuple[float, float, float, float]

# a perceptual ramp (dark blue, purple, orange, yellow) sampled at five points
RAMP = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]],
                dtype=np.float32)


def _resized(width: int, height: int, size) -> tuple[int, int]:
    """torchvision's Resize: an int (or one-element list) sets the shorter side, a pair is
    (height, width)."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[1]), int(size[0])
    short = int(size[0] if isinstance(size, (list, tuple)) else size)
    if width <= height:
        return short, int(short * height / width)
    return int(short * width / height), short


def seen_box(transform: Callable, width: int, height: int) -> Box:
    """(left, top, right, bottom) of the part of a ``width`` x ``height`` image that the eval
    transform's resizes and centre crops keep, in the image's pixels."""
    left, top, right, bottom = 0.0, 0.0, float(width), float(height)
    w, h = width, height
    for step in getattr(transform, "transforms", [transform]):
        resize = crop = None
        if hasattr(step, "crop_size"):  # torchvision's ImageClassification preset
            resize, crop = step.resize_size, step.crop_size
        elif isinstance(step, T.Resize):
            resize = step.size
        elif isinstance(step, T.CenterCrop):
            crop = step.size
        if resize is not None:
            w, h = _resized(w, h, resize)
        if crop is not None:
            ch, cw = (crop, crop) if isinstance(crop, int) else (crop[0], crop[-1])
            sx, sy = (right - left) / w, (bottom - top) / h
            dx, dy = int(round((w - cw) / 2)), int(round((h - ch) / 2))
            left, top = left + dx * sx, top + dy * sy
            right, bottom = left + cw * sx, top + ch * sy
            w, h = cw, ch
    return left, top, right, bottom


def peak_in_image(heatmap: np.ndarray, box: Box) -> tuple[int, int]:
    """The map's maximum as (x, y) in the image's pixels."""
    y, x = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    rows, cols = heatmap.shape
    left, top, right, bottom = box
    return (int(left + (x + 0.5) * (right - left) / cols),
            int(top + (y + 0.5) * (bottom - top) / rows))


def colourise(heatmap: np.ndarray) -> np.ndarray:
    """An H x W map in 0..1 as H x W x 3 uint8 colours along ``RAMP``."""
    position = np.clip(heatmap, 0, 1) * (len(RAMP) - 1)
    low = np.minimum(position.astype(int), len(RAMP) - 2)
    frac = (position - low)[..., None]
    return (RAMP[low] * (1 - frac) + RAMP[low + 1] * frac).astype(np.uint8)


def overlay(image: Image.Image, heatmap: np.ndarray, box: Box, opacity: float = 0.5
            ) -> Image.Image:
    """The image with the map laid over the part the model saw; hot places are opaque up to
    ``opacity``, cold ones let the photo through."""
    image = image.convert("RGB")
    left, top, right, bottom = (int(round(v)) for v in box)
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, image.width), min(bottom, image.height)
    if right <= left or bottom <= top:
        return image
    heat = Image.fromarray((np.clip(heatmap, 0, 1) * 255).astype(np.uint8))
    heat = np.asarray(heat.resize((right - left, bottom - top), Image.BILINEAR),
                      dtype=np.float32) / 255
    pixels = np.asarray(image, dtype=np.float32).copy()
    region = pixels[top:bottom, left:right]
    alpha = (opacity * (0.35 + 0.65 * heat))[..., None]
    pixels[top:bottom, left:right] = region * (1 - alpha) + colourise(heat) * alpha
    return Image.fromarray(pixels.astype(np.uint8))


def overlay_name(path: str | Path, taken: set[str]) -> str:
    """A PNG name for an image's overlay, unique among ``taken`` (which it joins)."""
    stem = Path(path).stem or "image"
    name, n = f"{stem}.cam.png", 1
    while name in taken:
        name, n = f"{stem}-{n}.cam.png", n + 1
    taken.add(name)
    return name
