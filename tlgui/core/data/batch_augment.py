"""Augmentation and normalisation of whole uint8 batches as tensors, on the training device.

Per image (in the loader, on uint8 tensors): the crop that makes the fixed size, or, when a
GPU trains, only the choice of the random crop's region (a slice, no resampling).
Per batch (on the device): resizing those regions (one ``roi_align`` over the batch),
horizontal flips, colour jitter and rotation for ``strong``, the conversion to float and
the model's normalisation. With augmentation off the result equals the PIL eval transform
bit for bit (same crop offsets, same division, same normalisation).
"""

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F
from torchvision import transforms as T
from torchvision.ops import roi_align
from torchvision.transforms import v2

from tlgui.core.data.datasets import TransformSpec, crop_scale

GREY = (0.299, 0.587, 0.114)
RATIO = (3 / 4, 4 / 3)


def crop_for(spec: TransformSpec, augment: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The per-image step on a uint8 C x H x W tensor."""
    if augment == "none":
        return v2.CenterCrop(spec.size)
    scale = crop_scale(augment)
    # bilinear whatever the model's eval interpolation: torch resizes uint8 images with a
    # vectorised bilinear kernel, several times faster than bicubic, and a random crop's
    # interpolation is part of the augmentation, not of what evaluation must reproduce
    steps = [v2.RandomResizedCrop(spec.size, scale=scale, ratio=RATIO, antialias=True,
                                  interpolation=v2.InterpolationMode.BILINEAR)]
    if augment == "strong":
        steps.append(v2.RandomRotation(15))
    return v2.Compose(steps)


class RandomRegion:
    """The region a random resized crop takes (a view of a uint8 C x H x W tensor), with the
    crop's own sampling of area and aspect ratio; the device resizes it."""

    def __init__(self, augment: str) -> None:
        self.scale = crop_scale(augment)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        top, left, height, width = T.RandomResizedCrop.get_params(image, self.scale, RATIO)
        return image[:, top:top + height, left:left + width]


def resize_regions(images: torch.Tensor, sizes: torch.Tensor, size: int) -> torch.Tensor:
    """The top-left ``sizes[k]`` (height, width) of each image resized to ``size`` x
    ``size``, as float 0-255: one ``roi_align`` over the batch, bilinear, averaging
    several samples per output pixel when shrinking (as an antialiased resize does)."""
    boxes = torch.zeros(len(images), 5, device=images.device)
    boxes[:, 0] = torch.arange(len(images), device=images.device)
    boxes[:, 3], boxes[:, 4] = sizes[:, 1], sizes[:, 0]
    return roi_align(images.float(), boxes, output_size=(size, size), spatial_scale=1.0,
                     sampling_ratio=-1, aligned=True)


class BatchAugment:
    """uint8 N x 3 x H x W on the device → normalised float, with random flips (and jitter)
    drawn per image from the device's generator when ``train``. A batch of regions
    (``sizes`` given) is resized first, and rotated for ``strong``."""

    def __init__(self, spec: TransformSpec, augment: str, device: torch.device) -> None:
        self.augment = augment
        self.size = spec.size
        self.channels = spec.channels
        shape = (1, spec.channels, 1, 1)
        self.mean = torch.tensor(spec.mean[:spec.channels], device=device).view(shape)
        self.std = torch.tensor(spec.std[:spec.channels], device=device).view(shape)
        self.grey = torch.tensor(GREY, device=device).view(1, 3, 1, 1)

    def __call__(self, images: torch.Tensor, *, train: bool,
                 sizes: torch.Tensor | None = None) -> torch.Tensor:
        if sizes is not None:
            x = resize_regions(images, sizes, self.size).div_(255)
        else:
            x = images.float().div_(255)  # in place from here: one new batch, not one per step
        if train and self.augment != "none":
            # a mask, not indexes: nonzero() would make the CPU wait for the GPU every batch
            flip = torch.rand(len(x), device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            if self.augment == "strong":
                if sizes is not None:  # per-image crops were rotated in the loader
                    x = self._rotate(x)
                x = self._jitter(x)
        if self.channels == 1:
            x = (x * self.grey).sum(1, keepdim=True)
        return x.sub_(self.mean).div_(self.std)  # what Normalize does, so results match

    @staticmethod
    def _rotate(x: torch.Tensor, degrees: float = 15) -> torch.Tensor:
        """A random rotation per image within ±``degrees``, black outside, as
        RandomRotation does, in one ``grid_sample`` over the batch."""
        angle = (torch.rand(len(x), device=x.device) * 2 - 1) * math.radians(degrees)
        cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(angle)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1),
                             torch.stack([sin, cos, zero], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def _jitter(self, x: torch.Tensor, amount: float = 0.3) -> torch.Tensor:
        """Brightness, contrast and saturation, a different factor per image."""
        def factors() -> torch.Tensor:
            return (1 + (torch.rand(len(x), device=x.device) * 2 - 1) * amount)[:, None, None, None]

        x = x * factors()
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * factors() + mean
        grey = (x * self.grey).sum(1, keepdim=True)
        x = (x - grey) * factors() + grey
        return x.clamp(0, 1)
