"""``tlgui clean``'s cost, in the same process: the whole check of a data set against one
inference pass of the same model over the same images, and the out-of-fold head fits on
25,000 made feature vectors with one thread and with all of them.

Usage: python scripts/bench_clean.py [--data DIR] [--vectors 25000]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--vectors", type=int, default=25_000)
    args = parser.parse_args()
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
