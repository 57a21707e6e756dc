import time

import pytest
import torch

from tlgui.core import diff, freeze, load_model, snapshot, summarize, tensor_sha256


@pytest.fixture
def net():
    return load_model("builtin:cifar_net", "none").model


def test_snapshot_clones_to_cpu_and_hashes_every_tensor(net):
    net.register_buffer("counter", torch.tensor(3))
    snap = snapshot(net)
    assert list(snap) == list(net.state_dict())
    assert snap["counter"].is_param is False and snap["fc1.weight"].is_param is True
    assert snap["fc1.weight"].tensor.data_ptr() != net.fc1.weight.data_ptr()
    assert snap["fc1.weight"].sha256 == tensor_sha256(net.fc1.weight)
    with torch.no_grad():
        net.fc1.weight[0, 0] += 1
    assert snap["fc1.weight"].sha256 != tensor_sha256(net.fc1.weight)


def test_hash_covers_bfloat16_and_scalars():
    assert len(tensor_sha256(torch.ones(3, dtype=torch.bfloat16))) == 64
    assert tensor_sha256(torch.tensor(1)) != tensor_sha256(torch.tensor(2))


def test_diff_verdicts_and_statistics(net):
    freeze(net, ["conv1"])
    before = snapshot(net)
    with torch.no_grad():
        net.fc1.weight[:2] += 0.5
        net.conv1.weight.mul_(1.0)  # same bits: still unchanged
        net.conv1.bias[0] += 1e-3  # a frozen tensor moved behind our back
    rows = {d.name: d for d in diff(before, net)}
    assert rows["conv2.weight"].verdict == "unchanged"
    assert rows["conv1.weight"].verdict == "unchanged"
    fc1 = rows["fc1.weight"]
    assert fc1.verdict == "changed" and not fc1.alarm
    assert fc1.max_abs == pytest.approx(0.5)
    assert fc1.fraction_changed == pytest.approx(2 / 120)
    assert fc1.l2 == pytest.approx((0.5**2 * 800) ** 0.5, rel=1e-6)
    assert fc1.relative == pytest.approx(fc1.l2 / before["fc1.weight"].tensor.double().norm())
    alarm = rows["conv1.bias"]
    assert alarm.verdict == "frozen-but-changed" and alarm.alarm and alarm.frozen
    assert summarize(diff(before, net)) == {"unchanged": 8, "changed": 1, "frozen-but-changed": 1}


def test_diff_of_two_snapshots_agrees_with_live_diff(net):
    before = snapshot(net)
    with torch.no_grad():
        net.fc2.bias.add_(1)
    live = [(d.name, d.verdict, d.l2) for d in diff(before, net)]
    snaps = [(d.name, d.verdict, d.l2) for d in diff(before, snapshot(net))]
    assert live == snaps


def test_buffers_of_frozen_batchnorm_are_frozen_tensors():
    model = load_model("resnet18", "none").model
    freeze(model, ["bn1"])
    snap = snapshot(model)
    assert snap["bn1.running_mean"].frozen and snap["bn1.num_batches_tracked"].frozen
    assert not snap["layer1.0.bn1.running_mean"].frozen
    model.train()
    model(torch.randn(2, 3, 32, 32))  # train mode without set_train_mode: the classic drift
    rows = {d.name: d for d in diff(snap, model)}
    assert rows["bn1.running_mean"].verdict == "frozen-but-changed"


def test_shape_changes_and_added_tensors_are_reported(net):
    before = snapshot(net)
    net.fc3 = torch.nn.Linear(84, 2)
    net.register_buffer("extra", torch.zeros(1))
    rows = {d.name: d for d in diff(before, net)}
    assert rows["fc3.weight"].verdict == "changed" and rows["extra"].verdict == "added"


def test_resnet50_diff_is_fast():
    """Functional check at ResNet-50 size; the timing goal lives in scripts/bench_weights.py."""
    model = load_model("resnet50", "none").model
    before = snapshot(model)
    with torch.no_grad():
        model.fc.weight.add_(1)
    start = time.perf_counter()
    rows = diff(before, snapshot(model))
    assert time.perf_counter() - start < 30  # sanity bound only, not a benchmark
    assert [d.name for d in rows if d.verdict != "unchanged"] == ["fc.weight"]
