"""The learning-rate finder (issue 22): it leaves the model exactly as it was, trains only
the head on cached features when the body is frozen, and suggests a rate close to the best
of a small sweep."""

import json

import numpy as np
import pytest
import torch

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import index_folder
from tlgui.core.model.recipe import build
from tlgui.core.train.engine import Trainer
from tlgui.core.train.lr_finder import find_lr, suggest

from .helpers import make_image_folder

COLOURS = ("red", "blue", "green")


@pytest.fixture(scope="module")
def colours(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("lr") / "data", per_class=24,
                             val_per_class=8, classes=COLOURS)


def _state(model):
    params = {n: (p.detach().clone(), p.requires_grad, p.stride(), p.device)
              for n, p in model.named_parameters()}
    return params, {n: b.clone() for n, b in model.named_buffers()}, \
        {n: m.training for n, m in model.named_modules()}


def test_the_finder_leaves_every_tensor_flag_and_generator_as_it_was(colours):
    exp = build([{"op": "load", "model": "builtin:vgg64", "weights": "none"},
                 {"op": "replace_head", "num_classes": 3}, {"op": "preset", "name": "head-only"}])
    exp.model.train()  # a mode the trial steps change
    params, buffers, modes = _state(exp.model)
    identities = [id(p) for p in exp.model.parameters()]
    generator = torch.get_rng_state()
    numbers = np.random.get_state()[1].copy()
    messages = []
    sweep = find_lr(exp.model, index_folder(colours), exp.loaded.transform,
                    TrainConfig(batch_size=8, optimizer="sgd"), steps=60, say=messages.append)
    assert sweep.cached and sweep.restored and sweep.tensors_checked == len(params) + len(buffers)
    assert len(sweep.lrs) == len(sweep.losses) > 10
    assert any("cached features" in m for m in messages)
    after_params, after_buffers, after_modes = _state(exp.model)
    for name, (value, trainable, stride, device) in params.items():
        now = after_params[name]
        assert torch.equal(now[0], value) and now[1:] == (trainable, stride, device), name
    assert all(torch.equal(after_buffers[n], b) for n, b in buffers.items())
    assert after_modes == modes and [id(p) for p in exp.model.parameters()] == identities
    assert all(p.grad is None for p in exp.model.parameters())
    assert torch.equal(torch.get_rng_state(), generator)
    assert np.array_equal(np.random.get_state()[1], numbers)


def test_the_rates_rise_exponentially_and_spread_groups_keep_their_multipliers(colours,
                                                                            tmp_path):
    pretrained = tmp_path / "cifar_net.pt"
    torch.save(build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"}]
                     ).model.state_dict(), pretrained)
    exp = build([{"op": "load", "model": "builtin:cifar_net", "weights": str(pretrained)},
                 {"op": "replace_head", "num_classes": 3}])  # a pretrained body, a new head
    seen = []
    original = torch.optim.SGD.step

    def step(self, *args, **kwargs):
        seen.append(sorted({g["lr"] for g in self.param_groups}))
        return original(self, *args, **kwargs)

    torch.optim.SGD.step = step
    try:
        sweep = find_lr(exp.model, index_folder(colours), exp.loaded.transform,
                        TrainConfig(batch_size=8, optimizer="sgd", cache="off", augment="none",
                                    lr_spread="two-groups", pretrained_lr_mult=0.1),
                        start_lr=1e-5, end_lr=1.0, steps=30)
    finally:
        torch.optim.SGD.step = original
    ratios = np.diff(np.log(sweep.lrs))
    assert sweep.lrs[0] == pytest.approx(1e-5) and np.allclose(ratios, ratios[0])
    assert len(seen) == 30 and [rates[-1] for rates in seen] == pytest.approx(sweep.lrs)
    assert all(len(rates) == 2 and rates[-1] / rates[0] == pytest.approx(10) for rates in seen)


def test_the_suggestion_lies_within_ten_times_the_best_rate_of_a_small_sweep(colours):
    data = index_folder(colours)
    recipe = [{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
              {"op": "replace_head", "num_classes": 3}]
    settings = dict(batch_size=8, optimizer="sgd", schedule="constant", cache="off",
                    augment="none", amp=False)  # float32: the same numbers on every processor
    exp = build(recipe)
    start = {k: v.clone() for k, v in exp.model.state_dict().items()}
    suggested = find_lr(exp.model, data, exp.loaded.transform, TrainConfig(**settings)
                        ).suggested_lr
    losses = {}
    for rate in (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1):
        exp.model.load_state_dict(start)
        result = Trainer(exp.model, data, exp.loaded.transform,
                         TrainConfig(epochs=3, lr=rate, **settings)).fit()
        losses[rate] = result.history[-1].val_loss if result.error is None else float("inf")
    best = min(losses, key=losses.get)
    assert suggested is not None and best / 10 <= suggested <= best * 10, (suggested, losses)


def test_a_loss_that_never_falls_gives_no_suggestion():
    rates = list(np.geomspace(1e-6, 1, 40))
    assert suggest(rates, list(np.linspace(1.0, 2.0, 40))) is None
    falling = [1.0] * 10 + list(np.linspace(1.0, 0.2, 20)) + list(np.linspace(0.3, 5, 10))
    found = suggest(rates, falling)
    assert rates[10] < found < rates[29]  # inside the fall, not at its edges


def test_find_lr_from_the_command_line_prints_json_and_writes_nothing(colours, tmp_path,
                                                                       monkeypatch, capsys):
    from tlgui.cli import main

    monkeypatch.chdir(tmp_path)
    code = main(["find-lr", "--model", "builtin:vgg64", "--weights", "none", "--data",
                 str(colours), "--preset", "head-only", "--batch-size", "8", "--steps", "40",
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    found = json.loads(out)
    assert set(found) >= {"suggested_lr", "lrs", "losses"} and len(found["lrs"]) == 40
    assert found["restored"] and found["cached"]
    assert list(tmp_path.iterdir()) == []  # no run folder, no logs, no checkpoints
    assert main(["find-lr", "--data", str(colours), "--steps", "3"]) == 2
    assert "at least 10" in capsys.readouterr().err
