"""Batches on their way to the device (issue 13): pinned by the loader, moved in order, and
on CUDA copied one step ahead on a side stream with the same values as the plain path."""

import math

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
    """The DataLoader pins what it does not know only through a ``pin_memory`` method:
    really pinned where CUDA is, each tensor's pinning call recorded where it is not."""
    pinned = []
    if not torch.cuda.is_available():  # pinning needs the CUDA driver
        def record(tensor, *args, **kwargs):
            copy = tensor.clone()
            pinned.append(copy)
            return copy

        monkeypatch.setattr(torch.Tensor, "pin_memory", record)
    batch = batches(1)[0]
    batch.failed = [3]
    out = loader_pin(batch)
    assert isinstance(out, Batch) and out.failed == [3]
    tensors = (out.images, out.labels, out.indexes)
    if torch.cuda.is_available():
        assert all(t.is_pinned() for t in tensors) and not batch.images.is_pinned()
    else:
        assert [id(t) for t in tensors] == [id(t) for t in pinned]
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
    source = [b.pin_memory() for b in batches(6, size=16)]  # as the loader gives them
    assert all(b.images.is_pinned() for b in source if len(b.images))  # so copies overlap
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


def test_a_whole_region_of_the_output_size_passes_through_unchanged():
    from tlgui.core.data.batch_augment import resize_regions

    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    out = resize_regions(images, torch.tensor([[8, 8], [8, 8]]), 8)
    assert torch.allclose(out, images.float(), atol=1e-4)


def test_regions_of_different_sizes_resize_without_dark_edges():
    """Padding repeats the edge, so upscaling a small flat region stays flat to its border
    (zero padding would blend black into the last row and column)."""
    from tlgui.core.data.batch_augment import RandomRegion
    from tlgui.core.data.datasets import collate_regions

    small = torch.full((3, 5, 7), 200, dtype=torch.uint8)
    large = torch.full((3, 40, 30), 90, dtype=torch.uint8)
    batch = collate_regions([(small, 0, 0), (large, 1, 1), (None, 1, 2)])
    assert batch.images.shape == (2, 3, 40, 30) and batch.sizes.tolist() == [[5, 7], [40, 30]]
    assert batch.failed == [2]
    augment = BatchAugment(SPEC, "light", torch.device("cpu"))
    out = augment(batch.images, train=False, sizes=batch.sizes)
    mean, std = torch.tensor(SPEC.mean).view(3, 1, 1), torch.tensor(SPEC.std).view(3, 1, 1)
    assert out.shape == (2, 3, 8, 8)
    assert torch.allclose(out[0], (200 / 255 - mean) / std, atol=1e-5)
    assert torch.allclose(out[1], (90 / 255 - mean) / std, atol=1e-5)
    torch.manual_seed(0)
    regions = [RandomRegion("light")(large) for _ in range(50)]
    areas = [r.shape[1] * r.shape[2] / (40 * 30) for r in regions]
    assert all(0.5 - 0.01 <= a <= 1.0 for a in areas) and len(set(areas)) > 5


@pytest.mark.parametrize("augment", ["light", "strong"])
def test_training_with_crops_resized_on_the_device(augment, tmp_path, monkeypatch):
    """What a GPU run does with the image cache, run on the CPU."""
    from tlgui.core.config import TrainConfig
    from tlgui.core.data.data_index import index_folder
    from tlgui.core.model.recipe import build
    from tlgui.core.train import inputs
    from tlgui.core.train.engine import Trainer
    from tlgui.core.train.train_events import TrainListener

    from .helpers import make_image_folder

    monkeypatch.setattr(inputs, "crops_on_device", lambda device: True)
    folder = make_image_folder(tmp_path / "data", per_class=8, val_per_class=3, side=48)
    shapes, messages = [], []

    class Watch(TrainListener):
        def on_message(self, text):
            messages.append(text)

    exp = build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
                 {"op": "replace_head", "num_classes": 2}])
    config = TrainConfig(epochs=2, batch_size=4, cache="off", augment=augment, seed=3,
                         image_cache=True, image_cache_dir=str(tmp_path / "decoded"))
    original_move = DeviceFeed.move

    def recording_move(self, batch, *, train):
        images, labels = original_move(self, batch, train=train)
        if train and images is not None:
            shapes.append((batch.sizes is not None, tuple(images.shape[1:])))
        return images, labels

    monkeypatch.setattr(DeviceFeed, "move", recording_move)
    trainer = Trainer(exp.model, index_folder(folder), exp.loaded.transform, config,
                      listeners=[Watch()], original=exp.original)
    result = trainer.fit()
    assert result.error is None and len(result.history) == 2
    assert all(math.isfinite(h.train_loss) for h in result.history)
    assert any("resized on cpu" in m for m in messages)
    assert shapes and all(regions and shape == (3, 32, 32) for regions, shape in shapes)
    assert trainer.integrity.passed
