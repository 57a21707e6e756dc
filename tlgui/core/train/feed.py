"""Batches from the loader to the training device.

The loader pins each batch (``Batch.pin_memory``) so that copies to the GPU are
asynchronous. On CUDA the copy of batch k+1, and its augmentation, run on a side stream
while batch k computes on the main one; elsewhere the batch is moved when it is needed.
"""

from collections.abc import Iterable, Iterator

import torch

from tlgui.core.data.batch_augment import BatchAugment
from tlgui.core.data.datasets import Batch

Fed = tuple[Batch, torch.Tensor | None, torch.Tensor | None]


class DeviceFeed:
    """Moves batches to ``device``; uint8 batches (from the decoded-image cache) go through
    ``augment`` there, then images become channels-last when asked."""

    def __init__(self, device: torch.device, augment: BatchAugment | None = None,
                 channels_last: bool = False) -> None:
        self.device = device
        self.augment = augment
        self.channels_last = channels_last

    def move(self, batch: Batch, *, train: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(images, labels) on the device, or (None, None) for a batch with no readable file."""
        if not len(batch.labels):
            return None, None
        images = batch.images.to(self.device, non_blocking=True)
        if self.augment is not None and images.dtype == torch.uint8:
            sizes = batch.sizes.to(self.device, non_blocking=True) if batch.sizes is not None \
                else None
            images = self.augment(images, train=train, sizes=sizes)
        if self.channels_last and images.ndim == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, batch.labels.to(self.device, non_blocking=True)

    def __call__(self, loader: Iterable[Batch], *, train: bool) -> Iterator[Fed]:
        """(batch, images, labels) per batch, in the loader's order."""
        if self.device.type != "cuda":
            for batch in loader:
                yield batch, *self.move(batch, train=train)
            return
        yield from self._ahead(loader, train)

    def _ahead(self, loader: Iterable[Batch], train: bool) -> Iterator[Fed]:
        side = torch.cuda.Stream(self.device)
        main = torch.cuda.current_stream(self.device)
        pending: Fed | None = None
        for batch in loader:
            ready = self._hand_over(pending, main, side) if pending is not None else None
            with torch.cuda.stream(side):  # queued after the hand-over: main does not wait for it
                pending = (batch, *self.move(batch, train=train))
            if ready is not None:
                yield ready
        if pending is not None:
            yield self._hand_over(pending, main, side)

    @staticmethod
    def _hand_over(fed: Fed, main, side) -> Fed:
        """The main stream waits for the side stream's copy; the allocator learns that the
        main stream now uses those tensors (so it does not reuse them too early)."""
        main.wait_stream(side)
        for tensor in fed[1:]:
            if tensor is not None:
                tensor.record_stream(main)
        return fed
