"""The learning-rate finder's cost against one training epoch, in the same process.

The offline default model, head only (body frozen, features cached), on the ants/bees
photos: the range test and a training epoch, each once with the features still to compute
and once with them cached (the finder leaves them cached for the run that follows).

Usage: python scripts/bench_lr_finder.py [--data DIR] [--steps 100]
"""

import argparse
import time

from bench_common import data_index, head_only_default

from tlgui.core.config import TrainConfig
from tlgui.core.train import feature_cache
from tlgui.core.train.engine import Trainer
from tlgui.core.train.lr_finder import find_lr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    index = data_index(args.data)
    exp = head_only_default(index)
    config = TrainConfig(epochs=1, device="cpu")
    timings = {}
    for cached in (False, True):
        feature_cache._MEMORY.clear()
        if cached:
            find_lr(exp.model, index, exp.loaded.transform, config, steps=10)
        start = time.perf_counter()
        result = Trainer(exp.model, index, exp.loaded.transform, config).fit()
        timings[("epoch", cached)] = time.perf_counter() - start
        if result.error:
            raise SystemExit(result.error)
        feature_cache._MEMORY.clear()
        if cached:
            find_lr(exp.model, index, exp.loaded.transform, config, steps=10)
        start = time.perf_counter()
        sweep = find_lr(exp.model, index, exp.loaded.transform, config, steps=args.steps)
        timings[("finder", cached)] = time.perf_counter() - start
        assert sweep.restored and sweep.cached
    print(f"{len(index.splits['train'])} training, {len(index.splits.get('valid', []))} "
          f"validation images; suggested {sweep.suggested_lr:.2e}")
    for cached, words in ((False, "features still to compute"), (True, "features cached")):
        finder, epoch = timings[("finder", cached)], timings[("epoch", cached)]
        print(f"{words}: find-lr ({args.steps} steps) {finder:.1f} s · one training epoch "
              f"{epoch:.1f} s · ratio {finder / epoch:.2f}")


if __name__ == "__main__":
    main()
