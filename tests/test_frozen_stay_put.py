"""Point 4 of the foundation: a few real optimiser steps on a partly frozen ResNet-18."""

import pytest
import torch
from torch import nn

from tlgui.core import build_optimizer, diff, freeze, load_model, replace_head, set_train_mode
from tlgui.core import snapshot as take_snapshot


def partly_frozen_resnet() -> nn.Module:
    torch.manual_seed(0)
    model = load_model("resnet18", "none").model
    replace_head(model, 3)
    freeze(model, ["conv1", "bn1", "layer1", "layer2", "layer3.0"])
    return model


def train_steps(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int = 3) -> None:
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        set_train_mode(model)
        images = torch.randn(4, 3, 64, 64, generator=generator)
        labels = torch.randint(0, 3, (4,), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_frozen_tensors_keep_their_sha256_and_trainable_ones_move(name):
    model = partly_frozen_resnet()
    before = take_snapshot(model)
    optimizer = build_optimizer(model, name, lr=0.05, momentum=0.9, weight_decay=0.01)
    train_steps(model, optimizer)
    after = take_snapshot(model)
    frozen = [n for n, rec in before.items() if rec.frozen]
    assert "layer1.0.bn1.running_mean" in frozen and "layer3.0.bn2.num_batches_tracked" in frozen
    for tensor_name in frozen:
        assert after[tensor_name].sha256 == before[tensor_name].sha256, tensor_name
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert {"fc.weight", "layer4.1.conv2.weight", "layer3.1.bn1.bias"} <= set(trainable)
    for tensor_name in trainable:
        assert after[tensor_name].sha256 != before[tensor_name].sha256, tensor_name
    assert after["layer4.0.bn1.running_var"].sha256 != before["layer4.0.bn1.running_var"].sha256
    assert not [d.name for d in diff(before, after) if d.alarm]


def test_the_classic_bugs_are_caught_by_the_diff():
    """An optimiser kept from before freezing (its momentum still set, gradients zeroed
    rather than dropped) and BatchNorm left in train mode move frozen tensors; the diff
    names them, so the test above could fail."""
    torch.manual_seed(0)
    model = load_model("resnet18", "none").model
    stale = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)

    def step():
        stale.zero_grad(set_to_none=False)
        images, labels = torch.randn(2, 3, 64, 64), torch.tensor([1, 2])
        nn.functional.cross_entropy(model(images), labels).backward()
        stale.step()

    model.train()
    step()
    freeze(model, ["layer1"])
    before = take_snapshot(model)
    step()
    alarms = {d.name for d in diff(before, model) if d.alarm}
    assert "layer1.0.conv1.weight" in alarms  # momentum and weight decay moved it
    assert "layer1.0.bn1.running_mean" in alarms  # BatchNorm statistics drifted


def test_optimizer_holds_only_trainable_tensors_without_decay_on_norms_and_biases():
    model = partly_frozen_resnet()
    optimizer = build_optimizer(model, "adamw", lr=1e-3, weight_decay=0.05)
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in model.parameters() if p.requires_grad}
    plain, decayed = sorted(optimizer.param_groups, key=lambda g: g["weight_decay"])
    assert decayed["weight_decay"] == 0.05 and plain["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decayed["params"]) and all(p.ndim == 1 for p in plain["params"])
    with pytest.raises(ValueError, match="unknown optimiser"):
        build_optimizer(model, "lion")
    freeze(model, ["*"])
    with pytest.raises(ValueError, match="no trainable parameters"):
        build_optimizer(model)
