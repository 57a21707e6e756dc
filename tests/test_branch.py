"""DESIGN.md scenario 1: parallel branches with copied or fresh weights."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tlgui.core import (
    LayerTree,
    SurgeryError,
    diff,
    freeze,
    load_model,
    provenance,
    set_trainable,
    snapshot,
    unfreeze,
)
from tlgui.core.model.branch import _check_shapes, add_parallel_branch
from tlgui.core.model.graph import node_names

from .conftest import DEMO_DATA
from .helpers import image_loader, storages, train_epoch


class SideNet(nn.Module):
    """The tutorial's hand-written parallel network: two CifarNet paths, 84 + 84 -> C."""

    def __init__(self, num_classes: int = 10, shared_trunk: bool = False) -> None:
        super().__init__()
        self.shared_trunk = shared_trunk
        self.pool = nn.MaxPool2d(2, 2)
        self.conv1_u, self.conv2_u = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1_u, self.fc2_u = nn.Linear(400, 120), nn.Linear(120, 84)
        if not shared_trunk:
            self.conv1_l, self.conv2_l = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1_l, self.fc2_l = nn.Linear(400, 120), nn.Linear(120, 84)
        self.fc_out = nn.Linear(168, num_classes)

    def trunk(self, x, conv1, conv2):
        x = self.pool(F.relu(conv1(x)))
        return torch.flatten(self.pool(F.relu(conv2(x))), 1)

    def forward(self, x):
        upper = self.trunk(x, self.conv1_u, self.conv2_u)
        lower = upper if self.shared_trunk else self.trunk(x, self.conv1_l, self.conv2_l)
        upper = F.relu(self.fc2_u(F.relu(self.fc1_u(upper))))
        lower = F.relu(self.fc2_l(F.relu(self.fc1_l(lower))))
        return self.fc_out(torch.cat([upper, lower], dim=1))

    @torch.no_grad()
    def copy_from(self, side: nn.Module) -> "SideNet":
        state = side.state_dict()
        for layer in ("conv1", "conv2", "fc1", "fc2"):
            for kind in ("weight", "bias"):
                getattr(self, f"{layer}_u").get_parameter(kind).copy_(state[f"{layer}.{kind}"])
                if hasattr(self, f"{layer}_l"):
                    getattr(self, f"{layer}_l").get_parameter(kind).copy_(
                        state[f"branch.{layer}.{kind}"])
        self.fc_out.weight.copy_(state["fc3.weight"])
        self.fc_out.bias.copy_(state["fc3.bias"])
        return self


@pytest.fixture(scope="module")
def trained_net() -> nn.Module:
    torch.manual_seed(0)
    net = load_model("builtin:cifar_net", "none").model
    train_epoch(net, image_loader(DEMO_DATA / "train", 32))
    return net


@pytest.mark.parametrize("fork, shared", [("x", False), ("flatten", True)])
def test_tutorial_sidenet_reproduced_and_trained(trained_net, fork, shared):
    net = trained_net
    before = snapshot(net)
    torch.manual_seed(1)
    side = add_parallel_branch(net, fork=fork, join="relu_3", init="fresh", merge="concat",
                               num_classes=10)
    assert side.fc3.in_features == 168 and side.fc3.out_features == 10
    hand = SideNet(10, shared_trunk=shared).copy_from(side)
    images = torch.randn(8, 3, 32, 32)
    assert torch.allclose(side(images), hand(images), atol=1e-6)
    for name in ("conv1.weight", "fc2.bias"):
        assert torch.equal(side.get_parameter(name), net.get_parameter(name))
    assert not torch.equal(side.branch.fc1.weight, net.fc1.weight)
    assert not storages(side) & storages(net), "the result must not alias the original"
    origins = provenance(side)
    assert origins["fc1.weight"].kind == "main" and origins["branch.fc1.weight"].kind == "fresh"
    assert origins["fc3.weight"].kind == "fresh"
    assert ("branch.conv1.weight" in origins) is (not shared)

    initial = snapshot(side)
    train_epoch(side, image_loader(DEMO_DATA / "train", 32))
    assert all(d.verdict == "unchanged" for d in diff(before, net)), "original must not move"
    moved = {d.name for d in diff(initial, side) if d.verdict == "changed"}
    assert {"fc1.weight", "fc2.weight", "branch.fc1.weight", "branch.fc2.weight"} <= moved
    assert not torch.equal(side.fc1.weight, net.fc1.weight), "copied path moved away"
    assert not storages(side) & storages(net)


def test_copy_init_starts_the_branch_equal_to_the_main_path(trained_net):
    side = add_parallel_branch(trained_net, "x", "relu_3", init="copy", merge="concat")
    assert torch.equal(side.branch.conv1.weight, trained_net.conv1.weight)
    assert side.branch.conv1.weight.data_ptr() != side.conv1.weight.data_ptr()
    assert provenance(side)["branch.conv1.weight"].source == "conv1.weight"
    assert side.fc3.out_features == 10, "the old head's width by default"


def test_the_original_is_not_touched(trained_net):
    before, text = snapshot(trained_net), str(trained_net)
    trained_net.train()
    add_parallel_branch(trained_net, "x", "relu_3", init="fresh")
    assert str(trained_net) == text and trained_net.training
    assert all(d.verdict == "unchanged" for d in diff(before, trained_net))


def test_mean_of_a_copied_branch_keeps_the_network_and_its_outputs():
    model = load_model("resnet18", "none").model.eval()
    side = add_parallel_branch(model, "layer3.1.relu_1", "layer4.1.relu_1", init="copy",
                               merge="mean").eval()
    images = torch.randn(2, 3, 64, 64)
    assert torch.allclose(side(images), model(images), atol=1e-5)
    assert torch.equal(side.fc.weight, model.fc.weight)
    doubled = add_parallel_branch(model, "layer3.1.relu_1", "layer4.1.relu_1", merge="sum").eval()
    assert not torch.allclose(doubled(images), model(images), atol=1e-3)


def test_resnet18_branch_with_frozen_main_path_trains_only_branch_and_head():
    torch.manual_seed(0)
    model = load_model("resnet18", "none").model
    side = add_parallel_branch(model, "layer3.1.relu_1", "flatten", init="copy", num_classes=2)
    assert side.fc.in_features == 1024 and side.fc.out_features == 2
    set_trainable(side, [""], False)
    unfreeze(side, ["branch", "fc"])
    before = snapshot(side)
    train_epoch(side, image_loader(DEMO_DATA / "train", 64, batch_size=8), max_steps=3)
    rows = diff(before, side)
    main = [d for d in rows if not d.name.startswith(("branch.", "fc."))]
    assert main and all(d.verdict == "unchanged" for d in main), [
        d.name for d in main if d.verdict != "unchanged"]
    changed = {d.name for d in rows if d.verdict == "changed"}
    assert {"fc.weight", "branch.layer4.1.conv2.weight", "branch.layer4.0.bn1.running_mean"
            } <= changed
    assert not any(d.alarm for d in rows)
    tree = LayerTree(side, (3, 64, 64))
    assert tree.state("branch") == "trainable" and tree.state("layer4") == "frozen"
    assert tree.nodes["branch.layer4"].type_name == "Sequential"


def test_offline_default_and_vgg16(default_model):
    side = add_parallel_branch(default_model.model, "blocks.5.3.add", "global_pool.flatten",
                               num_classes=2)
    assert side.classifier.in_features == 2560
    assert side(torch.zeros(1, 3, 224, 224)).shape == (1, 2)
    freeze(side, ["conv_stem", "bn1", "blocks", "conv_head", "bn2"])
    assert provenance(side)["blocks.0.0.conv_dw.weight"].kind == "main"
    vgg = load_model("vgg16", "none").model
    assert "classifier.4" in node_names(vgg)
    side = add_parallel_branch(vgg, "features.30", "classifier.4", num_classes=3)
    assert side.get_submodule("classifier.6").in_features == 8192
    assert side(torch.zeros(1, 3, 64, 64)).shape == (1, 3)


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        if x.sum() > 0:  # data-dependent control flow
            return self.fc(x)
        return self.fc(-x)


@pytest.mark.parametrize("fork, join, kwargs, message", [
    ("layer3.0.conv1", "layer3.0.relu_1", {}, "not after the fork 'layer3.0.conv1' on every "
     "path: 'layer3.0.add' also takes 'layer3.0.downsample.1'"),
    ("layer4.1.relu_1", "layer3.0.conv1", {}, "does not come after the fork"),
    ("layer3.1.relu", "flaten", {}, "Close names: flatten"),
    ("lyer3.1.relu", "flatten", {}, "the fork 'lyer3.1.relu' is not a node"),
    ("layer3.1.relu_1", "fc", {}, "at or after the classifier 'fc'"),
    ("layer3.1.relu_1", "layer4.0.relu_1", {}, "cannot take the wider features"),
    ("x", "flatten", {"merge": "max"}, "merge must be"),
    ("x", "flatten", {"init": "random"}, "init must be"),
])
def test_plain_errors(fork, join, kwargs, message):
    model = load_model("resnet18", "none").model
    with pytest.raises(SurgeryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_parallel_branch(model, fork, join, input_size=(3, 64, 64), **kwargs)


def test_untraceable_model_and_unequal_shapes_are_explained():
    with pytest.raises(SurgeryError, match="cannot be traced by torch.fx"):
        add_parallel_branch(Untraceable(), "x", "fc", input_size=(4,))
    with pytest.raises(SurgeryError, match="sum needs equal shapes"):
        _check_shapes((1, 64, 8, 8), (1, 32, 8, 8), "sum", "layer1")
    _check_shapes((1, 64, 8, 8), (1, 32, 8, 8), "concat", "layer1")


def test_branched_model_can_be_copied_and_branched_again(trained_net):
    side = add_parallel_branch(trained_net, "x", "relu_3")
    twin = copy.deepcopy(side)
    assert provenance(twin) == provenance(side)
    again = add_parallel_branch(side, "flatten", "relu_3", merge="sum")
    assert again(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
