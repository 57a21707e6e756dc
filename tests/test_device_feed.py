"""Batches on their way to the device (issue 13): pinned by the loader, moved in order, and
on CUDA copied one step ahead on a side stream with the same values as the plain path."""

import pytest
import torch
from torch.utils.data._utils.pin_memory import pin_memory as loader_pin
from torchvision.transforms import InterpolationMode

from tlgui.core.data.batch_augment import BatchAugment
from tlgui.core.data.datasets import Batch, TransformSpec
from tlgui.core.train.feed import DeviceFeed

SPEC = TransformSpec(size=8, resize=8, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3),
                     interpolation=InterpolationMode.BILINEAR)


def batches(count: int = 4, size: int = 3) -> list[Batch]:
    generator = torch.Generator().manual_seed(0)
    out = []
    for number in range(count):
        if number == 2:  # a batch whose files all failed to decode
            out.append(Batch(torch.empty(0), torch.empty(0).long(), torch.empty(0).long(), [7]))
            continue
        images = torch.randint(0, 256, (size, 3, 8, 8), dtype=torch.uint8, generator=generator)
        labels = torch.arange(size) + number
        out.append(Batch(images, labels, labels.clone(), []))
    return out


def test_the_loaders_pinning_thread_pins_a_batch(monkeypatch):
    """The DataLoader pins what it does not know only through a ``pin_memory`` method."""
    pinned = []

    def fake_pin(tensor, *args, **kwargs):
        copy = tensor.clone()
        pinned.append(copy)
        return copy

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    batch = batches(1)[0]
    batch.failed = [3]
    out = loader_pin(batch)
    assert isinstance(out, Batch) and out.failed == [3]
    assert [id(t) for t in (out.images, out.labels, out.indexes)] == [id(t) for t in pinned]
    assert torch.equal(out.images, batch.images) and torch.equal(out.labels, batch.labels)


def test_the_feed_moves_every_batch_in_order_and_skips_none():
    feed = DeviceFeed(torch.device("cpu"), BatchAugment(SPEC, "none", torch.device("cpu")),
                      channels_last=True)
    source = batches()
    fed = list(feed(source, train=False))
    assert [b for b, _, _ in fed] == source
    assert fed[2][1] is None and fed[2][2] is None
    images, labels = fed[0][1], fed[0][2]
    expected = (source[0].images.float() / 255 - torch.tensor(SPEC.mean).view(1, 3, 1, 1)) \
        / torch.tensor(SPEC.std).view(1, 3, 1, 1)
    assert torch.allclose(images, expected) and torch.equal(labels, source[0].labels)
    assert images.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the side-stream path needs CUDA")
def test_the_cuda_feed_copies_ahead_and_gives_the_plain_values():
    device = torch.device("cuda")
    source = batches(6, size=16)
    torch.cuda.manual_seed(0)
    plain = [DeviceFeed(device, BatchAugment(SPEC, "light", device)).move(b, train=True)
             for b in source]
    torch.cuda.manual_seed(0)
    ahead = list(DeviceFeed(device, BatchAugment(SPEC, "light", device))(source, train=True))
    assert [b for b, _, _ in ahead] == source
    for (images, labels), (_, fed_images, fed_labels) in zip(plain, ahead, strict=True):
        if images is None:
            assert fed_images is None
            continue
        assert torch.equal(images, fed_images) and torch.equal(labels, fed_labels)
