"""Images per second that the training loader alone delivers (no model), on the CPU: plain
decoding every epoch against the decoded-image cache after its first epoch, with the same
workers, the same output size and the same light augmentation. Also the loader's share of
the GPU path, where the loader only picks each crop's region and the GPU resizes it.

Usage: python scripts/bench_loader.py [FOLDER] [--make-jpegs 5000] [--workers 0] [--epochs 2]
Ends with the line ``loader ratio cached/plain = X.XX``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tlgui.core.data.batch_augment import BatchAugment, RandomRegion, crop_for
from tlgui.core.data.data_index import index_folder
from tlgui.core.data.datasets import (
    ImageFiles,
    collate_regions,
    describe_eval_transform,
    make_loader,
    train_transform,
)
from tlgui.core.data.image_cache import CachedImages, DecodedCache, ResizeSpec
from tlgui.core.data.image_check import find_bad_files
from tlgui.core.model.sources import load_model

ROOT = Path(__file__).resolve().parent.parent


def make_jpegs(folder: Path, count: int) -> Path:
    """``count`` photo-sized JPEGs (500 x 375, smooth shapes plus grain) in two classes."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:375, 0:500]
    for i in range(count):
        target = folder / ("a" if i % 2 else "b") / f"{i:05d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        cx, cy, r = rng.uniform(0, 500), rng.uniform(0, 375), rng.uniform(40, 200)
        base = np.where(((x - cx) ** 2 + (y - cy) ** 2) < r * r, 1.0, 0.0)[..., None]
        colours = rng.uniform(0, 255, (2, 3))
        pixels = base * colours[0] + (1 - base) * colours[1] + rng.normal(0, 12, (375, 500, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(target, quality=90)
    return folder


def images_per_second(loader, finish=None) -> float:
    seen, start = 0, time.perf_counter()
    for batch in loader:
        images = batch.images if finish is None else finish(batch.images)
        seen += len(images)
    return seen / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "data" / "hymenoptera")
    parser.add_argument("--make-jpegs", type=int, default=0, metavar="N",
                        help="benchmark on N generated photo-sized JPEGs instead")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2, help="measured epochs of each loader")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:
        folder = make_jpegs(Path(scratch) / "jpegs", args.make_jpegs) if args.make_jpegs \
            else args.folder
        samples = index_folder(folder).splits["train"]
        bad = find_bad_files([p for p, _ in samples])
        samples = [s for s in samples if s[0] not in bad]
        eval_tf = load_model("default", "none").transform
        spec = describe_eval_transform(eval_tf)
        print(f"{len(samples)} training images from {folder}; output {spec.size}x{spec.size}, "
              f"light augmentation, {args.workers} workers, batch {args.batch_size}")
        plain = ImageFiles(samples, train_transform(eval_tf, "light"))
        cache = DecodedCache(Path(scratch) / "decoded", ResizeSpec(spec.resize, spec.interpolation))
        cached = CachedImages(samples, cache, crop_for(spec, "light"))
        augment = BatchAugment(spec, "light", torch.device("cpu"))

        def loader(dataset):
            return make_loader(dataset, args.batch_size, shuffle=True, workers=args.workers)

        first = images_per_second(loader(cached), lambda x: augment(x, train=True))
        print(f"cached, first epoch (decodes and stores): {first:8.1f} images/s")
        regions = CachedImages(samples, cache, RandomRegion("light"), collate_regions)
        rates = {"plain": [], "cached": [], "regions": []}
        for _ in range(args.epochs):  # alternate, so all see the same machine load
            rates["plain"].append(images_per_second(loader(plain)))
            rates["cached"].append(images_per_second(loader(cached),
                                                     lambda x: augment(x, train=True)))
            rates["regions"].append(images_per_second(loader(regions)))
        best = {k: max(v) for k, v in rates.items()}
        print(f"plain decoding, every epoch:              {best['plain']:8.1f} images/s")
        print(f"cached, later epochs:                     {best['cached']:8.1f} images/s")
        print(f"cached, crop regions for a GPU to resize: {best['regions']:8.1f} images/s "
              "(the loader's share of the GPU path)")
        print(cache.describe())
        print(f"loader ratio cached/plain = {best['cached'] / best['plain']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
