"""Engine overhead: training images/s of tlgui's engine against a plain PyTorch loop.

Usage: python scripts/bench_engine.py [--model builtin:vgg64] [--epochs 2] [--rounds 3]
Same model, data, batch size, optimiser (SGD, momentum 0.9) and device; no caching, no
augmentation. Runs alternate (plain, engine, plain, engine, ...) and the best epoch of
each is compared. Goal: engine / plain >= 0.97.
"""

import argparse
import copy

import torch
from bench_common import data_index, plain_loader, plain_train_epoch

from tlgui.core import load_model, replace_head
from tlgui.core.config import TrainConfig
from tlgui.core.train.devices import pick_device
from tlgui.core.train.engine import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:vgg64")
    parser.add_argument("--data", default=None)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = pick_device(args.device)
    index = data_index(args.data)
    loaded = load_model(args.model, "none")
    replace_head(loaded.model, len(index.classes))
    plain_rates, engine_rates = [], []
    for _ in range(args.rounds):
        model = copy.deepcopy(loaded.model).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        for epoch in range(args.epochs):
            loader = plain_loader(index.splits["train"], loaded.transform, args.batch_size,
                                  seed=epoch, shuffle=True)
            seconds, images = plain_train_epoch(model, loader, optimizer, device)
            plain_rates.append(images / seconds)
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=0.01,
                             optimizer="sgd", weight_decay=0.0, schedule="constant",
                             cache="off", augment="none", device=args.device, amp=False,
                             channels_last=False)  # the overhead alone, same arithmetic
        engine_index = copy.copy(index)
        engine_index.splits = {"train": index.splits["train"]}  # no validation pass
        result = Trainer(copy.deepcopy(loaded.model), engine_index, loaded.transform,
                         config).fit()
        if result.error:
            raise SystemExit(result.error)
        engine_rates += [h.images_per_s for h in result.history]
    plain, engine = max(plain_rates), max(engine_rates)
    print(f"{args.model} on {device}, batch {args.batch_size}, {len(index.splits['train'])} "
          f"images, {args.rounds} rounds x {args.epochs} epochs")
    print(f"  plain loop  {plain:8.1f} images/s (best epoch)")
    print(f"  tlgui engine {engine:7.1f} images/s (best epoch)")
    print(f"  ratio engine/plain = {engine / plain:.3f} (goal >= 0.97)")


if __name__ == "__main__":
    main()
