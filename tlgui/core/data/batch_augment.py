"""Augmentation and normalisation of whole uint8 batches as tensors, on the training device.

Per image (in the loader, on uint8 tensors, cheap): the crop that makes the fixed size.
Per batch (on the device): horizontal flips, colour jitter for ``strong``, the conversion
to float and the model's normalisation. With augmentation off the result equals the PIL
eval transform bit for bit (same crop offsets, same division, same normalisation).
"""

from collections.abc import Callable

import torch
from torchvision.transforms import v2

from tlgui.core.data.datasets import TransformSpec

GREY = (0.299, 0.587, 0.114)


def crop_for(spec: TransformSpec, augment: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The per-image step on a uint8 C x H x W tensor."""
    if augment == "none":
        return v2.CenterCrop(spec.size)
    scale = (0.5, 1.0) if augment == "light" else (0.2, 1.0)
    # bilinear whatever the model's eval interpolation: torch resizes uint8 images with a
    # vectorised bilinear kernel, several times faster than bicubic, and a random crop's
    # interpolation is part of the augmentation, not of what evaluation must reproduce
    steps = [v2.RandomResizedCrop(spec.size, scale=scale, antialias=True,
                                  interpolation=v2.InterpolationMode.BILINEAR)]
    if augment == "strong":
        steps.append(v2.RandomRotation(15))
    return v2.Compose(steps)


class BatchAugment:
    """uint8 N x 3 x H x W on the device → normalised float, with random flips (and jitter)
    drawn per image from the device's generator when ``train``."""

    def __init__(self, spec: TransformSpec, augment: str, device: torch.device) -> None:
        self.augment = augment
        self.channels = spec.channels
        shape = (1, spec.channels, 1, 1)
        self.mean = torch.tensor(spec.mean[:spec.channels], device=device).view(shape)
        self.std = torch.tensor(spec.std[:spec.channels], device=device).view(shape)
        self.grey = torch.tensor(GREY, device=device).view(1, 3, 1, 1)

    def __call__(self, images: torch.Tensor, *, train: bool) -> torch.Tensor:
        x = images.float().div_(255)  # in place from here: one new batch, not one per step
        if train and self.augment != "none":
            flip = (torch.rand(len(x), device=x.device) < 0.5).nonzero().flatten()
            if len(flip):
                x[flip] = x[flip].flip(3)
            if self.augment == "strong":
                x = self._jitter(x)
        if self.channels == 1:
            x = (x * self.grey).sum(1, keepdim=True)
        return x.sub_(self.mean).div_(self.std)  # what Normalize does, so results match

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
