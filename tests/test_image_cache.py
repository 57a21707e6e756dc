"""The decoded-image cache and batch augmentation (issue 13)."""

import os
import time

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import index_folder
from tlgui.core.data.gpu_decode import fill_cache
from tlgui.core.data.image_cache import CachedImages, DecodedCache, ResizeSpec
from tlgui.core.model.recipe import build
from tlgui.core.train.engine import Trainer
from tlgui.core.train.train_events import TrainListener

from .helpers import make_image_folder, write_broken_files


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("cache") / "data", per_class=10,
                             val_per_class=4, side=72)


def train(folder, cache_dir=None, augment="none", model="builtin:cifar_net"):
    exp = build([{"op": "load", "model": model, "weights": "none"},
                 {"op": "replace_head", "num_classes": 2}])
    # deterministic: no cuDNN autotuning, whose choice of kernels varies between runs
    config = TrainConfig(epochs=2, batch_size=4, cache="off", augment=augment, seed=5,
                         deterministic=True,
                         image_cache=cache_dir is not None, image_cache_dir=str(cache_dir)
                         if cache_dir else None)
    trainer = Trainer(exp.model, index_folder(folder), exp.loaded.transform, config,
                      original=exp.original)
    result = trainer.fit()
    assert result.error is None, result.error
    return trainer, result, exp.model.state_dict()


def test_cached_images_give_the_same_run_as_decoding_when_augmentation_is_off(folder, tmp_path):
    _, plain, plain_weights = train(folder)
    trainer, cached, cached_weights = train(folder, tmp_path / "decoded")
    assert [(h.train_loss, h.val_loss, h.val_accuracy) for h in plain.history] == \
        [(h.train_loss, h.val_loss, h.val_accuracy) for h in cached.history]
    assert all(torch.equal(plain_weights[k], cached_weights[k]) for k in plain_weights)
    cache = trainer.image_cache
    assert len(list(cache.folder.glob("*.npy"))) == 28 and cache.size_bytes() > 0


def test_augmented_training_reuses_the_cache_and_is_reproducible(folder, tmp_path):
    first = train(folder, tmp_path / "decoded", augment="strong")
    second = train(folder, tmp_path / "decoded", augment="strong")
    assert second[0].image_cache.misses == 0 and second[0].image_cache.hits > 0
    assert [h.train_loss for h in first[1].history] == [h.train_loss for h in second[1].history]


def test_bad_files_are_still_skipped_and_listed(tmp_path):
    root = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    write_broken_files(root / "train" / "red")
    trainer, result, _ = train(root, tmp_path / "decoded")
    assert {os.path.basename(p) for p in result.skipped_files} >= {"empty.jpg", "page.jpg",
                                                                    "cut.jpg", "missing.gif"}


def test_an_edited_photo_is_decoded_again_and_the_cache_is_bounded(tmp_path):
    photo = tmp_path / "a.jpg"
    Image.fromarray(np.full((90, 120, 3), 200, np.uint8)).save(photo)
    cache = DecodedCache(tmp_path / "decoded", ResizeSpec(64), max_bytes=40_000)
    first = np.array(cache.get(photo))
    assert first.shape == (64, 85, 3) and cache.misses == 1
    assert np.array_equal(cache.get(photo), first) and cache.hits == 1
    time.sleep(0.01)
    Image.fromarray(np.full((90, 120, 3), 10, np.uint8)).save(photo)
    os.utime(photo, ns=(time.time_ns(), time.time_ns() + 10**9))  # a different mtime, surely
    assert int(np.array(cache.get(photo)).mean()) < 50 and cache.misses == 2
    for i in range(6):
        other = tmp_path / f"o{i}.jpg"
        Image.fromarray(np.full((90, 120, 3), i, np.uint8)).save(other)
        cache.get(other)
    cache.trim()
    assert cache.size_bytes() <= 40_000
    dataset = CachedImages([(photo, 0)], cache, lambda t: t[:, :8, :8])
    image, label, index = dataset[0]
    assert image.dtype == torch.uint8 and image.shape == (3, 8, 8) and (label, index) == (0, 0)


def test_jpegs_decoded_in_batches_fill_the_cache_close_to_pillow(tmp_path):
    """The GPU decoder's code path, run with torchvision's CPU decoder (no GPU here)."""
    root = make_image_folder(tmp_path / "data", per_class=5, val_per_class=0, side=90)
    write_broken_files(root / "train" / "red")  # cut.jpg: the batch fails, then file by file
    Image.fromarray(np.full((50, 70, 3), 9, np.uint8)).save(root / "train" / "red" / "flat.png")
    paths = sorted(p for p in (root / "train").rglob("*") if p.is_file())
    spec = ResizeSpec(64, InterpolationMode.BICUBIC)
    batched = DecodedCache(tmp_path / "gpu", spec)
    report = fill_cache(batched, paths, torch.device("cpu"), batch_size=4)
    assert (report.decoded, report.cached) == (10, 0)  # the ten good JPEGs
    assert report.left == len(paths) - 10 and "decoded 10 JPEGs" in report.describe(
        torch.device("cpu"))
    pillow = DecodedCache(tmp_path / "pil", spec)
    good = [p for p in paths if batched.entry(p).exists()]
    assert len(good) == 10 and all(p.suffix == ".jpg" for p in good)
    for path in good:
        ours, theirs = np.array(batched.get(path)), np.array(pillow.get(path))
        assert ours.shape == theirs.shape
        assert np.abs(ours.astype(int) - theirs.astype(int)).mean() < 2.0, path
    assert batched.misses == 0  # every good JPEG came from the batched fill
    again = fill_cache(batched, paths, torch.device("cpu"))
    assert (again.decoded, again.cached) == (0, 10)


def test_gpu_decoding_without_cuda_says_so_and_trains_on_the_cpu(folder, tmp_path):
    exp = build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
                 {"op": "replace_head", "num_classes": 2}])
    config = TrainConfig(epochs=1, batch_size=4, cache="off", augment="light", device="cpu",
                         image_cache=True, image_cache_dir=str(tmp_path / "d"), gpu_decode=True)
    messages = []

    class Messages(TrainListener):
        def on_message(self, text):
            messages.append(text)

    result = Trainer(exp.model, index_folder(folder), exp.loaded.transform, config,
                     listeners=[Messages()]).fit()
    assert result.error is None and len(result.history) == 1
    assert any("GPU JPEG decoding needs CUDA" in m for m in messages)
