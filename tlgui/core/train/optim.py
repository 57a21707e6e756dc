"""Optimisers over trainable tensors only, discriminative learning rates, schedules.

No weight decay on norm layers and biases (every tensor with fewer than 2 dimensions).
Rebuild the optimiser whenever freezing changes: a frozen tensor must be in no group, or
momentum and weight decay would keep moving it.
"""

import math
from fnmatch import fnmatchcase

import torch
from torch import nn

from tlgui.core.config import OPTIMIZERS, SCHEDULES, SPREADS
from tlgui.core.model.provenance import provenance


def lr_factors(
    model: nn.Module,
    *,
    pretrained_mult: float = 1.0,
    spread: str = "two-groups",
    multipliers: dict[str, float] | None = None,
) -> dict[str, float]:
    """Learning-rate factor per trainable parameter name.

    ``two-groups``: new (fresh) tensors 1, pretrained ones ``pretrained_mult``.
    ``geometric``: pretrained tensors get factors rising geometrically from
    ``pretrained_mult`` at the first trainable top-level block to 1 at the last.
    ``multipliers`` (glob on parameter or layer names -> factor) apply on top.
    """
    if spread not in SPREADS:
        raise ValueError(f"unknown learning-rate spread '{spread}'; choose {', '.join(SPREADS)}")
    origins = provenance(model)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    blocks = list(dict.fromkeys(n.split(".")[0] for n in trainable))
    factors = {}
    for name in trainable:
        if origins[name].kind == "fresh":
            factor = 1.0
        elif spread == "geometric" and len(blocks) > 1:
            position = blocks.index(name.split(".")[0]) / (len(blocks) - 1)
            factor = pretrained_mult ** (1.0 - position)
        else:
            factor = pretrained_mult
        for pattern, value in (multipliers or {}).items():
            if _selects(pattern, name):
                factor *= value
        factors[name] = factor
    return factors


def _selects(pattern: str, param_name: str) -> bool:
    """A glob selects a parameter by its own name or the name of any enclosing layer."""
    parts = param_name.split(".")
    return any(fnmatchcase(".".join(parts[:i]), pattern) for i in range(1, len(parts) + 1))


def param_groups(model: nn.Module, lr: float, weight_decay: float,
                 factors: dict[str, float] | None = None) -> list[dict]:
    """Trainable parameters grouped by (learning rate, weight decay)."""
    groups: dict[tuple[float, float], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        factor = (factors or {}).get(name, 1.0)
        decay = 0.0 if param.ndim <= 1 else weight_decay
        groups.setdefault((lr * factor, decay), []).append(param)
    return [{"params": params, "lr": group_lr, "weight_decay": decay}
            for (group_lr, decay), params in sorted(groups.items(), key=lambda kv: kv[0])]


def build_optimizer(
    model: nn.Module,
    name: str = "sgd",
    lr: float = 1e-3,
    *,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    factors: dict[str, float] | None = None,
) -> torch.optim.Optimizer:
    """An optimiser over the model's trainable parameters only."""
    groups = param_groups(model, lr, weight_decay, factors)
    if not groups:
        raise ValueError("the model has no trainable parameters: unfreeze a layer first")
    name = name.lower()
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise ValueError(f"unknown optimiser '{name}'; choose one of {', '.join(OPTIMIZERS)}")


def build_schedule(optimizer: torch.optim.Optimizer, kind: str, total_steps: int
                   ) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-batch schedule over ``total_steps`` steps."""
    total = max(total_steps, 1)
    if kind == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if kind == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total)))
    if kind == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total + 1)
    raise ValueError(f"unknown schedule '{kind}'; choose one of {', '.join(SCHEDULES)}")
