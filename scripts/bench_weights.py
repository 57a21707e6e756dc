"""Benchmark snapshots and diffs on ResNet-50 against a plain state-dict clone.

Usage: python scripts/bench_weights.py [--model resnet50] [--repeat 3]
Prints seconds (best of N) and the ratio to the baseline measured in the same process.
"""

import argparse
import time

import torch

from tlgui.core import diff, freeze, load_model, snapshot


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    model = load_model(args.model, "none").model
    freeze(model, ["layer1", "layer2"])
    tensors = sum(1 for _ in model.state_dict())
    numel = sum(t.numel() for t in model.state_dict().values())
    baseline = best_of(args.repeat, lambda: {k: v.clone() for k, v in model.state_dict().items()})
    before = snapshot(model)
    with torch.no_grad():
        for p in model.layer4.parameters():
            p.add_(1e-3)
    after = snapshot(model)
    rows = {
        "state-dict clone (baseline)": baseline,
        "snapshot with SHA-256": best_of(args.repeat, lambda: snapshot(model)),
        "diff snapshot vs live model": best_of(args.repeat, lambda: diff(before, model)),
        "diff snapshot vs snapshot": best_of(args.repeat, lambda: diff(before, after)),
    }
    print(f"{args.model}: {tensors} tensors, {numel:,} elements, "
          f"{torch.get_num_threads()} threads")
    for name, seconds in rows.items():
        print(f"  {name:<30} {seconds:8.3f} s   {seconds / baseline:6.1f}x baseline")


if __name__ == "__main__":
    main()
