"""Gradual unfreezing: the epochs at which the trainable set grows, and growing it."""

from torch import nn

from tlgui.core.config import TrainConfig, UnfreezeStep
from tlgui.core.model.freeze import set_trainable, unfreeze_all


def phase_starts(config: TrainConfig) -> list[int]:
    """Epochs at which the trainable set changes (the optimiser is rebuilt there)."""
    return [0, *sorted({s.epoch for s in config.unfreeze if 0 < s.epoch < config.epochs})]


def unfreeze_upto(model: nn.Module, config: TrainConfig, upto: int) -> list[UnfreezeStep]:
    """Apply every step due by epoch ``upto``; returns those due exactly then (after the
    first epoch), which the run announces."""
    for step in config.unfreeze:
        if step.epoch <= upto and step.epoch < config.epochs:
            if step.what == "all":
                unfreeze_all(model)
            else:
                blocks = [n for n, m in model.named_children() if any(True for _ in m.parameters())]
                set_trainable(model, blocks[-int(step.what):], True)
    return [s for s in config.unfreeze if s.epoch == upto and 0 < upto < config.epochs]
