"""Optimisers that hold only trainable tensors, without weight decay on norms and biases."""

import torch
from torch import nn

OPTIMIZERS = ("sgd", "adam", "adamw")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Trainable parameters split into a decayed group and a no-decay group
    (biases and the weights of norm layers: every tensor with fewer than 2 dimensions)."""
    decay, no_decay = [], []
    for _, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim <= 1 else decay).append(param)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": weight_decay})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def build_optimizer(
    model: nn.Module,
    name: str = "sgd",
    lr: float = 1e-3,
    *,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
) -> torch.optim.Optimizer:
    """An optimiser over the model's trainable parameters only.

    Rebuild it whenever freezing changes: a frozen tensor must not be in any group,
    or momentum and weight decay would keep moving it.
    """
    groups = param_groups(model, weight_decay)
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
