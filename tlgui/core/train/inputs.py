"""What a training phase reads: cached features, images from the decoded-image cache, or
image files decoded every epoch."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from tlgui.core.config import TrainConfig
from tlgui.core.data.batch_augment import BatchAugment, RandomRegion, crop_for
from tlgui.core.data.datasets import (
    ImageFiles,
    cacheable,
    collate_regions,
    describe_eval_transform,
    train_transform,
)
from tlgui.core.data.gpu_decode import fill_cache
from tlgui.core.data.image_cache import CachedImages, DecodedCache, ResizeSpec
from tlgui.core.files import cache_home
from tlgui.core.train import distributed
from tlgui.core.train.feature_cache import CachedFeatures, CacheSplit, Features, compute_features

Files = list[tuple[Path, int]]


@dataclass
class Inputs:
    train: Dataset
    valid: Dataset
    augment: BatchAugment | None = None  # for uint8 batches from the decoded-image cache
    cache: DecodedCache | None = None


def image_inputs(train: Files, valid: Files, eval_transform, augment: str, config: TrainConfig,
                 device: torch.device, ranks: distributed.Ranks, say: Callable[[str], None],
                 should_stop: Callable[[], bool]) -> Inputs:
    """Image files through the transforms every epoch, or, with ``config.image_cache``,
    decoded images from the disk cache, cropped per image and augmented per batch on the
    device (the cache filled by the GPU's JPEG decoder first when ``config.gpu_decode``,
    each rank of a torchrun job decoding its share)."""
    plain = Inputs(ImageFiles(train, train_transform(eval_transform, augment)),
                   ImageFiles(valid, eval_transform))
    if not config.image_cache:
        return plain
    if not cacheable(eval_transform):
        say("decoded-image cache not used: the model's eval transform does more than resize, "
            "crop and normalise")
        return plain
    spec = describe_eval_transform(eval_transform)
    folder = config.image_cache_dir or cache_home() / "decoded"
    cache = DecodedCache(folder, ResizeSpec(spec.resize, spec.interpolation),
                         config.image_cache_mb * 2**20)
    if config.gpu_decode and device.type == "cuda":
        paths = distributed.share([path for path, _ in train + valid], ranks)
        say(fill_cache(cache, paths, device, should_stop=should_stop).describe(device))
        distributed.barrier(ranks)  # every share is in the cache before training reads it
    elif config.gpu_decode:
        say(f"GPU JPEG decoding needs CUDA (this run trains on {device.type}); JPEGs are "
            "decoded on the CPU")
    say(cache.describe())
    if augment != "none" and crops_on_device(device):
        say(f"random crops are chosen by the loader and resized on {device.type}")
        train_images = CachedImages(train, cache, RandomRegion(augment), collate_regions)
    else:
        train_images = CachedImages(train, cache, crop_for(spec, augment))
    return Inputs(train_images, CachedImages(valid, cache, crop_for(spec, "none")),
                  BatchAugment(spec, augment, device), cache)


def crops_on_device(device: torch.device) -> bool:
    """Whether random crops are resized on the device: on a GPU one batched kernel; on the
    CPU per image in the loader's workers, several times faster than the batched kernel."""
    return device.type == "cuda"


def feature_inputs(split: CacheSplit, train: Files, valid: Files, eval_transform,
                   config: TrainConfig, device: torch.device, ranks: distributed.Ranks,
                   say: Callable[[str], None], should_stop: Callable[[], bool],
                   workers: int = 0, amp_dtype: torch.dtype | None = None,
                   channels_last: bool = False) -> Inputs:
    """The frozen part's outputs, computed once (or read from ``config.cache_dir``) by
    ``workers`` decoding processes, in ``amp_dtype`` when mixed precision is on, on
    channels-last input when the model takes it."""
    out = []
    for files, name in ((train, "training"), (valid, "validation")):
        if not files:
            out.append(CachedFeatures(Features(np.zeros((0, 1), np.float32),
                                               np.zeros(0, bool)), []))
            continue
        shared = ranks.enabled and config.cache_dir  # rank 0 builds, the others read
        if shared and not ranks.writes:
            distributed.barrier(ranks)
        features, reused = compute_features(
            split, files, eval_transform, device=device, batch_size=max(config.batch_size, 64),
            cache_dir=config.cache_dir, workers=workers, amp_dtype=amp_dtype,
            channels_last=channels_last,
            should_stop=should_stop, say=say)
        if shared and ranks.writes:
            distributed.barrier(ranks)
        say(f"{'reused' if reused else 'computed'} cached features for {len(files)} {name} "
            "images")
        out.append(CachedFeatures(features, files))
    return Inputs(*out)
