"""The learning-rate range test (Smith 2015; fastai's ``lr_find``): train for a few hundred
steps while the rate rises exponentially, smooth the loss, stop when it diverges, and
suggest a rate.

It trains exactly what a run with the same settings would train first: with a frozen body
and cached features only the head, on the cached features (seconds); otherwise the whole
trainable model. Spread rates keep their multipliers: the sweep sets the head's rate and
every group follows in proportion. Afterwards every parameter, buffer, gradient, training
flag, memory layout and random generator is put back exactly as it was, and a snapshot
comparison proves it; the trial steps send no events, write no logs or checkpoints.

The suggestion rule, shown on the plot: **valley** (fastai's default since 2.5): take the
longest run of steps over which the smoothed loss keeps falling (each step lower than the
previous one of the run, not necessarily adjacent steps) and suggest the rate half-way along
it. It errs on the low side of the best rate, where "steepest descent" often lands on the
edge of divergence (the moving average lags behind the rising rate).
"""

import dataclasses
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataIndex
from tlgui.core.model.freeze import set_train_mode
from tlgui.core.model.snapshots import snapshot
from tlgui.core.train.engine import Trainer
from tlgui.core.train.integrity import weight_changes
from tlgui.core.train.train_events import StopToken, TrainListener

RULE = "valley: half-way along the longest fall of the smoothed loss"
SMOOTHING = 0.98  # exponential moving average of the loss, with bias correction
DIVERGED = 4.0  # the sweep stops once the smoothed loss exceeds this many times its best


@dataclass
class LrSweep:
    lrs: list[float]
    losses: list[float]  # smoothed
    suggested_lr: float | None
    seconds: float = 0.0
    cached: bool = False  # the head trained on cached features
    diverged: bool = False
    restored: bool = False  # every tensor compared bit-identical afterwards
    tensors_checked: int = 0
    rule: str = RULE

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        rate = f"{self.suggested_lr:.2e}" if self.suggested_lr else "none (the loss never fell)"
        where = "the head on cached features" if self.cached else "the trainable layers"
        ended = f" (the loss diverged at {self.lrs[-1]:.1e})" if self.diverged else ""
        return (f"suggested learning rate: {rate} ({RULE}); {len(self.lrs)} steps of {where}"
                f"{ended} in {self.seconds:.1f} s; " + (
                    f"all {self.tensors_checked} tensors restored bit for bit" if self.restored
                    else "the model could NOT be restored exactly"))


def suggest(lrs: list[float], losses: list[float]) -> float | None:
    """The valley rate (see the module's text), or None when the loss never fell."""
    longest = [1] * len(losses)  # the longest falling run that ends at each step
    end = 0
    for i in range(1, len(losses)):
        longest[i] = 1 + max((longest[j] for j in range(i) if losses[j] > losses[i]),
                             default=0)
        if longest[i] > longest[end]:
            end = i
    if longest[end] < 3:
        return None
    start = end - longest[end]
    third = (end - start) / 3
    return float(lrs[start + int(third) + int(third / 2)])


class _Saved:
    """A model's tensors (values, device, layout), gradients, training flags, trainable
    flags and every random generator, to put back exactly."""

    def __init__(self, model: nn.Module) -> None:
        self.params = {n: (p.detach().clone(), p.grad, p.requires_grad)
                       for n, p in model.named_parameters()}
        self.buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
        self.modes = {m: m.training for m in model.modules()}
        self.random = (torch.get_rng_state(), np.random.get_state(), random.getstate(),
                       torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None)

    def restore(self, model: nn.Module) -> None:
        for name, param in model.named_parameters():
            value, grad, trainable = self.params[name]
            param.data, param.grad = value, grad
            param.requires_grad_(trainable)
        for name, value in self.buffers.items():
            owner, _, key = name.rpartition(".")
            model.get_submodule(owner)._buffers[key] = value
        for module, training in self.modes.items():
            module.training = training
        torch.set_rng_state(self.random[0])
        np.random.set_state(self.random[1])
        random.setstate(self.random[2])
        if self.random[3] is not None:
            torch.cuda.set_rng_state_all(self.random[3])


class _Messages(TrainListener):
    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def on_message(self, text: str) -> None:
        self.say(text)


def find_lr(model: nn.Module, data: DataIndex, eval_transform, config: TrainConfig, *,
            start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100,
            say: Callable[[str], None] = lambda text: None,
            progress: Callable[[int, int], None] = lambda done, total: None,
            stop: StopToken | None = None) -> LrSweep:
    """Run the range test on ``model`` with ``config``'s optimiser, freezing, caching and
    precision; ``model`` is left exactly as it was (raises what the trainer raises)."""
    if not 0 < start_lr < end_lr or steps < 10:
        raise ValueError("the range test needs 0 < start rate < end rate and at least 10 steps")
    saved, before = _Saved(model), snapshot(model)
    trial = dataclasses.replace(config, epochs=1, checkpoint_dir=None, unfreeze=[])
    trainer = Trainer(model, data, eval_transform, trial, listeners=[_Messages(say)],
                      stop=stop)
    began = time.perf_counter()
    try:
        trainer.prepare()
        lrs, losses, diverged = _sweep(trainer, start_lr, end_lr, steps, progress)
    finally:
        saved.restore(model)
    rows = weight_changes(before, model, set())
    return LrSweep(lrs, losses, suggest(lrs, losses), time.perf_counter() - began,
                   cached=trainer.split is not None, diverged=diverged,
                   restored=all(r.verdict == "unchanged" for r in rows), tensors_checked=len(rows))


def _sweep(trainer: Trainer, start_lr: float, end_lr: float, steps: int,
           progress: Callable[[int, int], None]) -> tuple[list[float], list[float], bool]:
    groups = trainer.optimizer.param_groups
    base = [group["lr"] / trainer.config.lr for group in groups]  # each group's multiplier
    growth = (end_lr / start_lr) ** (1 / (steps - 1))
    lrs: list[float] = []
    losses: list[float] = []
    average, best, epoch = 0.0, math.inf, 0
    set_train_mode(trainer.model)
    while len(lrs) < steps and not trainer.stop.stopped:
        loader = trainer.loader(trainer.train_data, shuffle=True, epoch=epoch)
        for _, images, labels in trainer.feed(loader, train=True):
            if images is None:
                continue
            rate = start_lr * growth ** len(lrs)
            for group, factor in zip(groups, base, strict=True):
                group["lr"] = rate * factor
            loss = nn.functional.cross_entropy(trainer.forward(images, train=True).float(), labels)
            trainer.optimizer.zero_grad(set_to_none=True)
            trainer.scaler.scale(loss).backward()
            trainer.scaler.step(trainer.optimizer)
            trainer.scaler.update()
            value = loss.item()
            average = SMOOTHING * average + (1 - SMOOTHING) * value
            smoothed = average / (1 - SMOOTHING ** (len(lrs) + 1))
            if not math.isfinite(smoothed) or smoothed > DIVERGED * best:
                return lrs, losses, True
            lrs.append(rate)
            losses.append(smoothed)
            best = min(best, smoothed)
            progress(len(lrs), steps)
            if len(lrs) == steps or trainer.stop.stopped:
                break
        epoch += 1
    return lrs, losses, False
