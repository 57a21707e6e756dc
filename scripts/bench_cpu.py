"""The CPU path, measured: tlgui's default settings against the plain float32 tutorial loop.

1. Training: deep fine-tuning of ResNet-18 (every layer trainable, batch 32, SGD with
   momentum, no augmentation) on the ants/bees photos; images/s of tlgui's engine with its
   defaults (bfloat16 autocast where the processor has it, channels-last) and of the plain
   loop, alternating, best epoch of each, and the ratio (goal >= 2).
2. Inference over the validation photos: ``tlgui evaluate``'s path against a plain float32
   loop, images/s and ratio.
3. Accuracy: the engine's best validation accuracy over 5 epochs of deep fine-tuning with
   mixed precision on and off, same seed, for each of several seeds and on average (goal:
   within 1 point). ResNet-18 has no offline
   pretrained weights, so this uses the bundled pretrained EfficientNet-Lite0 (random
   weights would make 5 epochs' accuracy noise).
4. ``torch.compile`` of the training step: its compile time against the time it saves per
   epoch (adopted only if it pays for itself within one epoch).

Usage: python scripts/bench_cpu.py [--data DIR] [--rounds 2] [--seeds 3] [--skip-accuracy] [--skip-compile]
"""

import argparse
import copy
import time

import torch
from bench_common import data_index, plain_loader, plain_train_epoch
from torch import nn

from tlgui.core import load_model, replace_head
from tlgui.core.config import TrainConfig
from tlgui.core.inference.evaluate import evaluate
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.train.compute import cpu_has_native_bf16
from tlgui.core.train.engine import Trainer

CPU = torch.device("cpu")


def settings(**changes) -> TrainConfig:
    """The user's defaults, with the benchmark's optimiser and no augmentation."""
    return TrainConfig(**{"batch_size": 32, "lr": 0.001, "optimizer": "sgd", "weight_decay": 0.0,
                          "schedule": "constant", "cache": "off", "augment": "none",
                          "device": "cpu", **changes})


def training(loaded: LoadedModel, index, rounds: int) -> tuple[float, float]:
    train_only = copy.copy(index)
    train_only.splits = {"train": index.splits["train"]}  # no validation pass in the timing
    plain, engine = [], []
    for _ in range(rounds):
        model = copy.deepcopy(loaded.model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        loader = plain_loader(index.splits["train"], loaded.transform, 32, seed=0, shuffle=True)
        seconds, images = plain_train_epoch(model, loader, optimizer, CPU)
        plain.append(images / seconds)
        result = Trainer(copy.deepcopy(loaded.model), train_only, loaded.transform,
                         settings(epochs=1)).fit()
        if result.error:
            raise SystemExit(result.error)
        engine.append(result.history[-1].images_per_s)
    return max(plain), max(engine)


@torch.no_grad()
def inference(loaded: LoadedModel, index, rounds: int) -> tuple[float, float]:
    plain, ours = [], []
    images = len(index.splits["valid"])
    for _ in range(rounds):
        model = copy.deepcopy(loaded.model).eval()
        start = time.perf_counter()
        for inputs, _ in plain_loader(index.splits["valid"], loaded.transform, 32, 0, False):
            model(inputs)
        plain.append(images / (time.perf_counter() - start))
        copied = LoadedModel(**{**vars(loaded), "model": copy.deepcopy(loaded.model),
                                "class_names": list(index.classes)})
        start = time.perf_counter()
        evaluate(copied, index, device="cpu")
        ours.append(images / (time.perf_counter() - start))
    return max(plain), max(ours)


def accuracy(index, seed: int, epochs: int = 5) -> dict[str, float]:
    best = {}
    for amp in (False, True):
        loaded = load_model("default", "default")
        replace_head(loaded.model, len(index.classes))
        result = Trainer(loaded.model, index, loaded.transform,
                         settings(epochs=epochs, lr=0.005, amp=amp, seed=seed)).fit()
        if result.error:
            raise SystemExit(result.error)
        best["bfloat16" if amp else "float32"] = max(h.val_accuracy for h in result.history)
    return best


def accuracies(index, seeds: int) -> None:
    """Per seed and on average: one validation photo is 0.65 points of 153, so a single
    seed's difference is mostly which two or three photos land either side."""
    differences = []
    for seed in range(seeds):
        best = accuracy(index, seed)
        differences.append(100 * (best["bfloat16"] - best["float32"]))
        print(f"best validation accuracy, EfficientNet-Lite0 deep fine-tuning, 5 epochs, seed "
              f"{seed}: float32 {best['float32']:.3f} · bfloat16 {best['bfloat16']:.3f} · "
              f"difference {differences[-1]:+.1f} points", flush=True)
    mean = sum(differences) / len(differences)
    print(f"mean difference over {seeds} seeds: {mean:+.1f} points (goal: within 1)",
          flush=True)


def compiled_step(loaded: LoadedModel, index) -> tuple[float, float, float]:
    """(compile seconds, eager and compiled seconds per batch), bfloat16 + channels-last."""
    model = copy.deepcopy(loaded.model).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    batch = next(iter(plain_loader(index.splits["train"], loaded.transform, 32, 0, True)))
    images, labels = batch[0].contiguous(memory_format=torch.channels_last), batch[1]

    def step(net: nn.Module) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = nn.functional.cross_entropy(net(images).float(), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def per_batch(net: nn.Module, count: int = 3) -> float:
        start = time.perf_counter()
        for _ in range(count):
            step(net)
        return (time.perf_counter() - start) / count

    step(model)
    eager = per_batch(model)
    fast = torch.compile(model)
    start = time.perf_counter()
    step(fast)
    return time.perf_counter() - start, eager, per_batch(fast)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the accuracy comparison")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-compile", action="store_true")
    args = parser.parse_args()
    index = data_index(args.data)
    torch.manual_seed(0)
    loaded = load_model("resnet18", "none")
    replace_head(loaded.model, len(index.classes))
    print(f"{torch.get_num_threads()} threads · native bfloat16: {cpu_has_native_bf16()} · "
          f"{len(index.splits['train'])} training, {len(index.splits['valid'])} validation "
          f"images · torch {torch.__version__}", flush=True)
    plain, engine = training(loaded, index, args.rounds)
    print(f"training, ResNet-18 deep fine-tuning, batch 32: plain float32 loop {plain:.1f} "
          f"images/s · tlgui defaults {engine:.1f} images/s · ratio {engine / plain:.2f} "
          "(goal >= 2)", flush=True)
    plain, ours = inference(loaded, index, args.rounds)
    print(f"inference over the validation photos: plain float32 loop {plain:.1f} images/s · "
          f"tlgui evaluate {ours:.1f} images/s · ratio {ours / plain:.2f}", flush=True)
    if not args.skip_accuracy:
        accuracies(index, args.seeds)
    if not args.skip_compile:
        compile_s, eager, fast = compiled_step(loaded, index)
        batches = -(-len(index.splits["train"]) // 32)
        saved = (eager - fast) * batches
        print(f"torch.compile: {compile_s:.1f} s to compile; {eager:.2f} s per batch eager, "
              f"{fast:.2f} compiled; saves {saved:.1f} s per epoch of {batches} batches: "
              + ("pays for itself within one epoch" if saved > compile_s else
                 "does not pay for itself within one epoch (not adopted)"))


if __name__ == "__main__":
    main()
