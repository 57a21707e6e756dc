"""Datasets and loaders over indexed image files, with augmentation presets.

A file that fails to decode is skipped and reported with the batch, never fatal.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from tlgui.core.config import AUGMENT_PRESETS
from tlgui.core.data.image_check import open_rgb


@dataclass(frozen=True)
class TransformSpec:
    """What a model's eval transform does: resize, crop, normalise."""

    size: int
    resize: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: T.InterpolationMode
    channels: int = 3


def describe_eval_transform(transform: Callable) -> TransformSpec:
    """Read size, mean/std and interpolation from torchvision or timm eval transforms."""
    steps = getattr(transform, "transforms", [transform])
    spec = {"interpolation": T.InterpolationMode.BILINEAR, "mean": (0.5,) * 3, "std": (0.5,) * 3}
    for step in steps:
        if hasattr(step, "crop_size"):  # torchvision's ImageClassification preset
            spec.update(size=int(step.crop_size[0]), resize=int(step.resize_size[0]),
                        mean=tuple(step.mean), std=tuple(step.std),
                        interpolation=step.interpolation)
        elif isinstance(step, T.Resize):
            size = step.size
            spec["resize"] = int(size if isinstance(size, int) else size[0])
            spec["interpolation"] = step.interpolation
        elif isinstance(step, T.CenterCrop):
            spec["size"] = int(step.size[0])
        elif isinstance(step, T.Grayscale):
            spec["channels"] = step.num_output_channels
        elif isinstance(step, T.Normalize):
            spec.update(mean=tuple(float(m) for m in step.mean),
                        std=tuple(float(s) for s in step.std))
    spec.setdefault("size", spec.get("resize", 224))
    spec.setdefault("resize", spec["size"])
    return TransformSpec(**spec)


CACHEABLE_STEPS = {"Resize", "CenterCrop", "ToTensor", "MaybeToTensor", "Normalize", "Grayscale",
                   "ImageClassification"}


def cacheable(transform: Callable) -> bool:
    """Whether the eval transform is resize, centre crop, to tensor and normalise only (what
    the decoded-image cache and the batch augmentation reproduce exactly)."""
    steps = getattr(transform, "transforms", [transform])
    resize = [s for s in steps if isinstance(s, T.Resize)]
    return all(type(s).__name__ in CACHEABLE_STEPS for s in steps) and all(
        isinstance(s.size, int) or len(s.size) == 1 for s in resize)


def crop_scale(preset: str) -> tuple[float, float]:
    """The share of the image a random resized crop keeps, for an augmentation preset."""
    return (0.5, 1.0) if preset == "light" else (0.2, 1.0)


def train_transform(eval_transform: Callable, preset: str) -> Callable:
    """The eval transform for ``none``; random crops and flips for ``light``; plus colour
    jitter and rotation for ``strong``. Always ends with the model's own normalisation."""
    if preset == "none":
        return eval_transform
    if preset not in AUGMENT_PRESETS:
        raise ValueError(f"unknown augmentation '{preset}'; choose {', '.join(AUGMENT_PRESETS)}")
    spec = describe_eval_transform(eval_transform)
    steps: list[Callable] = [
        T.RandomResizedCrop(spec.size, scale=crop_scale(preset), interpolation=spec.interpolation),
        T.RandomHorizontalFlip(),
    ]
    if preset == "strong":
        steps += [T.ColorJitter(0.3, 0.3, 0.3, 0.05), T.RandomRotation(15)]
    if spec.channels == 1:
        steps.append(T.Grayscale(1))
    steps += [T.ToTensor(), T.Normalize(spec.mean, spec.std)]
    return T.Compose(steps)


class ImageFiles(Dataset):
    """(image tensor, label, index) per file; a file that fails gives (None, label, index)."""

    def __init__(self, samples: Sequence[tuple[Path, int]], transform: Callable) -> None:
        self.samples = list(samples)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        try:
            image: Image.Image = open_rgb(path)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            return None, label, index
        return self.transform(image), label, index


@dataclass
class Batch:
    images: torch.Tensor
    labels: torch.Tensor
    indexes: torch.Tensor
    failed: list[int]  # dataset indexes of files that could not be read
    # (height, width) of each image's region when ``images`` holds regions of different
    # sizes, edge-padded to the largest, still to be resized on the device
    sizes: torch.Tensor | None = None

    def pin_memory(self) -> "Batch":
        """Called by the DataLoader's pinning thread when ``pin_memory=True`` (it leaves
        objects without this method unpinned): page-locked tensors copy to the GPU
        asynchronously."""
        return Batch(self.images.pin_memory(), self.labels.pin_memory(),
                     self.indexes.pin_memory(), self.failed,
                     None if self.sizes is None else self.sizes.pin_memory())


def collate(items: list, regions: bool = False) -> Batch:
    """Stack the readable items; with ``regions``, images of different sizes are padded
    by repeating their last row and column (so resampling at the edge sees no black)."""
    good = [item for item in items if item[0] is not None]
    failed = [index for image, _, index in items if image is None]
    if not good:
        empty = torch.empty(0)
        return Batch(empty, empty.long(), empty.long(), failed)
    images, sizes = [g[0] for g in good], None
    if regions:
        sizes = torch.tensor([image.shape[-2:] for image in images])
        height, width = sizes.max(0).values.tolist()
        stacked = images[0].new_empty(len(images), images[0].shape[0], height, width)
        for slot, image in zip(stacked, images, strict=True):
            h, w = image.shape[-2:]
            slot[:, :h, :w] = image
            slot[:, :h, w:] = image[:, :, -1:]
            slot[:, h:, :] = slot[:, h - 1:h, :]
    else:
        stacked = torch.stack(images)
    return Batch(stacked, torch.tensor([g[1] for g in good]), torch.tensor([g[2] for g in good]),
                 failed, sizes)


collate_regions = partial(collate, regions=True)


def make_loader(dataset: Dataset, batch_size: int, *, shuffle: bool, seed: int = 0,
                workers: int = 0, pin_memory: bool = False, sampler=None) -> DataLoader:
    """A loader whose order depends only on ``seed`` (or on ``sampler``, a distributed
    one); when shuffling, a last batch of a single image is dropped (BatchNorm cannot train
    on one). A dataset with a ``collate`` attribute batches its items with it."""
    generator = torch.Generator().manual_seed(seed)
    count = len(sampler) if sampler is not None else len(dataset)
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
        generator=generator, num_workers=workers, pin_memory=pin_memory,
        collate_fn=getattr(dataset, "collate", collate),
        drop_last=shuffle and count % batch_size == 1, persistent_workers=False,
    )
