import math

import pytest
import torch

from tlgui.core import build_optimizer, freeze, load_model, replace_head
from tlgui.core.train.optim import build_schedule, lr_factors, param_groups


@pytest.fixture
def pretrained_resnet(tmp_path):
    path = tmp_path / "r18.pt"
    torch.save(load_model("resnet18", "none").model.state_dict(), path)
    model = load_model("resnet18", str(path)).model
    replace_head(model, 2)
    return model


def test_two_groups_new_head_full_rate_pretrained_slower(pretrained_resnet):
    factors = lr_factors(pretrained_resnet, pretrained_mult=0.1)
    assert factors["fc.weight"] == 1.0 and factors["layer4.1.conv2.weight"] == pytest.approx(0.1)
    groups = param_groups(pretrained_resnet, 0.01, 1e-4, factors)
    rates = {(g["lr"], g["weight_decay"]) for g in groups}
    assert rates == {(0.001, 0.0), (0.001, 1e-4), (0.01, 0.0), (0.01, 1e-4)}


def test_geometric_spread_rises_from_first_block_to_head(pretrained_resnet):
    freeze(pretrained_resnet, ["conv1", "bn1", "layer1"])
    factors = lr_factors(pretrained_resnet, pretrained_mult=0.01, spread="geometric")
    blocks = ["layer2", "layer3", "layer4", "fc"]
    firsts = [factors[f"{b}.0.conv1.weight"] if b != "fc" else 1.0 for b in blocks]
    assert firsts[0] == pytest.approx(0.01) and firsts[1] == pytest.approx(0.01 ** (2 / 3))
    assert firsts[2] == pytest.approx(0.01 ** (1 / 3)) and "layer1.0.conv1.weight" not in factors


def test_per_layer_multipliers_apply_by_layer_or_parameter_name(pretrained_resnet):
    factors = lr_factors(pretrained_resnet, pretrained_mult=0.1,
                         multipliers={"layer4": 5.0, "fc.bias": 0.5, "layer3.*.bn*": 0.0})
    assert factors["layer4.0.conv1.weight"] == pytest.approx(0.5)
    assert factors["fc.bias"] == 0.5 and factors["fc.weight"] == 1.0
    assert factors["layer3.1.bn2.weight"] == 0.0 and factors["layer3.1.conv1.weight"] == 0.1
    with pytest.raises(ValueError, match="unknown learning-rate spread"):
        lr_factors(pretrained_resnet, spread="linear")


@pytest.mark.parametrize("kind", ["constant", "cosine", "onecycle"])
def test_schedules_run_over_the_given_steps(pretrained_resnet, kind):
    optimizer = build_optimizer(pretrained_resnet, "sgd", lr=0.1)
    schedule = build_schedule(optimizer, kind, total_steps=10)
    seen = []
    for _ in range(10):
        optimizer.step()
        schedule.step()
        seen.append(optimizer.param_groups[0]["lr"])
    if kind == "constant":
        assert seen == [0.1] * 10
    elif kind == "cosine":
        assert seen[-1] == pytest.approx(0.0, abs=1e-12)
        assert seen[4] == pytest.approx(0.05 * (1 + math.cos(math.pi * 5 / 10)))
    else:
        assert max(seen) <= 0.1 + 1e-9 and seen[-1] < 0.01
    with pytest.raises(ValueError, match="unknown schedule"):
        build_schedule(optimizer, "step", 10)
