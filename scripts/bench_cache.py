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

from tlgui.core import freeze_all_but_head, load_model, replace_head, set_train_mode
from tlgui.core.config import TrainConfig
from tlgui.core.train.devices import pick_device
from tlgui.core.train.engine import Trainer


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

    plain = {}
    for label, mode in (("tutorial loop, model.train()", None),
                        ("same loop, frozen BatchNorm in eval mode", set_train_mode)):
        model = copy.deepcopy(loaded.model).to(device)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                      lr=args.lr, weight_decay=1e-4)
        start = time.perf_counter()
        for epoch in range(args.epochs):
            loader = plain_loader(index.splits["train"], loaded.transform, args.batch_size,
                                  seed=epoch, shuffle=True)
            plain_train_epoch(model, loader, optimizer, device, mode)
            valid = plain_loader(index.splits["valid"], loaded.transform, args.batch_size,
                                 seed=0, shuffle=False)
            accuracy = plain_accuracy(model, valid, device)
        plain[label] = (time.perf_counter() - start, accuracy)

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
    for label, (seconds, accuracy) in plain.items():
        print(f"  {label:<42} {seconds:7.1f} s  val acc {accuracy:.3f}  "
              f"(cached is {seconds / cached_seconds:.1f}x faster, "
              f"{(cached_acc - accuracy) * 100:+.1f} points)")
    print(f"  {'tlgui engine, cached features':<42} {cached_seconds:7.1f} s  "
          f"val acc {cached_acc:.3f}")
    print("  goals: at least 5x faster; accuracy within one point of the loop that computes "
          "the same thing (frozen BatchNorm in eval mode)")


if __name__ == "__main__":
    main()
