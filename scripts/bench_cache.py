"""Feature caching: head-only retraining of the offline default, cached against a plain loop
that recomputes the frozen part every batch (the way the classic tutorials do it).

Usage: python scripts/bench_cache.py [--epochs 10] [--data DIR]
Goals: total time at least 5x lower with caching; validation accuracy within one point.
"""

import argparse
import copy
import time

import torch
from bench_common import data_index, plain_accuracy, plain_loader, plain_train_epoch

from tlgui.core import freeze_all_but_head, load_model, replace_head
from tlgui.core.devices import pick_device
from tlgui.core.engine import Trainer
from tlgui.core.train_events import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    device = pick_device("auto")
    index = data_index(args.data)
    loaded = load_model("default")
    replace_head(loaded.model, len(index.classes))
    freeze_all_but_head(loaded.model)
    torch.manual_seed(0)

    model = copy.deepcopy(loaded.model).to(device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=args.lr, weight_decay=1e-4)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        loader = plain_loader(index.splits["train"], loaded.transform, args.batch_size,
                              seed=epoch, shuffle=True)
        plain_train_epoch(model, loader, optimizer, device)
        valid = plain_loader(index.splits["valid"], loaded.transform, args.batch_size,
                             seed=0, shuffle=False)
        plain_acc = plain_accuracy(model, valid, device)
    plain_seconds = time.perf_counter() - start

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         optimizer="adamw", schedule="constant", cache="on", augment="none")
    start = time.perf_counter()
    result = Trainer(copy.deepcopy(loaded.model), index, loaded.transform, config).fit()
    cached_seconds = time.perf_counter() - start
    if result.error:
        raise SystemExit(result.error)
    cached_acc = result.history[-1].val_accuracy
    print(f"offline default, head only, {args.epochs} epochs, {len(index.splits['train'])} train"
          f" / {len(index.splits['valid'])} val images, {device}")
    print(f"  plain loop (recomputes the frozen part)  {plain_seconds:7.1f} s  "
          f"val acc {plain_acc:.3f}")
    print(f"  tlgui engine, cached features            {cached_seconds:7.1f} s  "
          f"val acc {cached_acc:.3f}")
    print(f"  speed-up {plain_seconds / cached_seconds:.1f}x (goal >= 5); accuracy difference "
          f"{abs(plain_acc - cached_acc) * 100:.1f} points (goal <= 1)")


if __name__ == "__main__":
    main()
