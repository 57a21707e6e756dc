"""``tlgui clean``'s cost, in the same process: the whole check of a data set against one
inference pass of the same model over the same images, and the out-of-fold head fits on
25,000 made feature vectors with one thread and with all of them; with ``--scale N``, the
copy and outlier search alone on N made vectors (files of a few bytes, 1% planted copies):
seconds and peak memory.

Usage: python scripts/bench_clean.py [--data DIR] [--vectors 25000] [--scale 100000]
"""

import argparse
import time

import numpy as np
import torch
from bench_common import data_index, head_only_default

from tlgui.core.cleaning.label_issues import out_of_fold_probabilities
from tlgui.core.cleaning.report import clean
from tlgui.core.data.datasets import ImageFiles, make_loader
from tlgui.core.train import feature_cache
from tlgui.core.train.compute import fast_forward


def inference_pass(exp, files) -> float:
    start = time.perf_counter()
    forward = None
    with torch.no_grad():
        for batch in make_loader(ImageFiles(files, exp.loaded.transform), 64, shuffle=False):
            forward = forward or fast_forward(exp.model.eval(), torch.device("cpu"),
                                              batch.images[0])
            forward(batch.images)
    return time.perf_counter() - start


def head_fits(vectors: int, threads: int) -> float:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, vectors)
    features = rng.normal(0, 1, (10, 1280))[labels] + rng.normal(0, 3, (vectors, 1280))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        out_of_fold_probabilities(features, labels, 10, folds=5)
    finally:
        torch.set_num_threads(before)
    return time.perf_counter() - start


def copies_at_scale(count: int) -> None:
    import resource
    import tempfile
    from pathlib import Path

    from tlgui.core.cleaning.neighbours import duplicate_groups, outlier_scores, outliers

    rng = np.random.default_rng(0)
    features = np.abs(rng.normal(0, 1, (count, 1280))).astype(np.float32)
    planted = count // 100
    features[:planted] = features[planted:2 * planted] + rng.normal(0, 0.05, (planted, 1280))
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i in range(count):
            path = Path(folder) / f"{i}.bin"
            path.write_bytes(str(i).encode())
            paths.append(path)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        groups = duplicate_groups(paths, features)
        middle = time.perf_counter()
        far = outliers(outlier_scores(features, exclude=[g.members for g in groups]))
        end = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count:,} vectors of 1,280 features, {torch.get_num_threads()} threads: copies "
          f"{middle - start:.1f} s ({len(groups):,} groups, {planted:,} planted), outliers "
          f"{end - middle:.1f} s ({len(far)} found); peak memory {peak:,.0f} MB "
          f"({before:,.0f} MB before)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--vectors", type=int, default=25_000)
    parser.add_argument("--scale", type=int, default=0)
    args = parser.parse_args()
    if args.scale:
        copies_at_scale(args.scale)
        return
    index = data_index(args.data)
    exp = head_only_default(index)
    files = [f for split in index.splits.values() for f in split]
    once = inference_pass(exp, files)
    feature_cache._MEMORY.clear()
    start = time.perf_counter()
    found = clean(exp, index)
    whole = time.perf_counter() - start
    print(f"{len(files)} images: one inference pass {once:.1f} s · tlgui clean {whole:.1f} s · "
          f"ratio {whole / once:.2f} ({len(found['label_issues'])} label issues, "
          f"{len(found['duplicates'])} copy groups, {len(found['outliers'])} outliers)")
    cores = torch.get_num_threads()
    for threads in sorted({1, cores}):
        print(f"5-fold head fits on {args.vectors:,} vectors of 1,280 features, 10 classes, "
              f"{threads} thread(s): {head_fits(args.vectors, threads):.1f} s")


if __name__ == "__main__":
    main()
