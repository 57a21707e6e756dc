import json

import pytest
import torch
from torch import nn

from tlgui.core import (
    LayerTree,
    NoMatchError,
    freeze,
    freeze_all_but_head,
    freeze_up_to,
    load_model,
    set_train_mode,
    trainable_state,
    unfreeze,
    unfreeze_all,
    unfreeze_from,
)


@pytest.fixture
def resnet() -> nn.Module:
    return load_model("resnet18", "none").model


def frozen_names(model: nn.Module) -> set[str]:
    return {n for n, p in model.named_parameters() if not p.requires_grad}


def test_tree_counts_shapes_and_states(resnet):
    set_train_mode(resnet)
    resnet.bn1.eval()
    tree = LayerTree(resnet, (3, 224, 224))
    assert tree.root.total_params == 11_689_512
    assert tree.nodes["layer4"].output_shape == (1, 512, 7, 7)
    assert tree.nodes["fc"].output_shape == (1, 1000)
    assert tree.nodes["layer1.0.bn1"].own_params == 128
    assert tree.nodes["layer1"].own_params == 0 and tree.nodes["layer1"].total_params == 147_968
    assert [c.name for c in tree.nodes["layer1"].children] == ["layer1.0", "layer1.1"]
    freeze(resnet, ["layer1.0.conv1"])
    assert tree.state("layer1.0.conv1") == "frozen"
    assert tree.state("layer1") == "mixed" and tree.state("") == "mixed"
    assert tree.state("layer2") == "trainable" and tree.state("relu") is None
    doc = json.loads(json.dumps(tree.as_dict()))
    assert doc["total_params"] == 11_689_512
    assert doc["trainable_params"] == 11_689_512 - 36_864
    assert resnet.training and resnet.layer1[0].bn1.training and not resnet.bn1.training


def test_freeze_by_glob_freezes_exactly_the_subtrees(resnet):
    matched = freeze(resnet, ["layer*", "conv1", "bn1"])
    assert matched == ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"]
    assert {n for n, p in resnet.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}
    unfreeze(resnet, ["layer4.1.*"])
    assert trainable_state(resnet.layer4[1]) == "trainable"
    assert trainable_state(resnet.layer4) == "mixed"


def test_pattern_on_a_parameter_name_selects_its_layer(resnet):
    assert freeze(resnet, ["layer2.0.downsample.0.weight"]) == ["layer2.0.downsample.0"]


def test_pattern_that_matches_nothing_is_an_error(resnet):
    with pytest.raises(NoMatchError, match="'layr\\*' matches no layer.*Top-level layers: conv1"):
        freeze(resnet, ["layr*"])
    assert not frozen_names(resnet), "a failed call must change nothing"


def test_freeze_by_index_with_negative_indexes(resnet):
    assert freeze(resnet, [0, 1, -2]) == ["conv1", "bn1", "avgpool"]
    assert frozen_names(resnet) == {"conv1.weight", "bn1.weight", "bn1.bias"}
    assert freeze(resnet, [-1, "layer1"]) == ["layer1", "fc"]
    unfreeze(resnet, [-1])
    assert resnet.fc.weight.requires_grad and not resnet.layer1[0].conv1.weight.requires_grad
    with pytest.raises(NoMatchError, match="index 10 is out of range"):
        freeze(resnet, [10])


def test_freeze_up_to_and_unfreeze_from(resnet):
    freeze_up_to(resnet, "layer2")
    frozen = frozen_names(resnet)
    assert "layer2.1.bn2.bias" in frozen and "layer1.0.conv1.weight" in frozen
    assert "layer3.0.conv1.weight" not in frozen and "conv1.weight" in frozen
    unfreeze_from(resnet, "layer2.1")
    assert resnet.layer2[1].conv1.weight.requires_grad
    assert not resnet.layer2[0].conv1.weight.requires_grad
    with pytest.raises(NoMatchError, match="no layer named 'layer9'"):
        freeze_up_to(resnet, "layer9")


def test_freeze_up_to_a_layer_without_parameters(resnet):
    freeze_up_to(resnet, "maxpool")
    assert frozen_names(resnet) == {"conv1.weight", "bn1.weight", "bn1.bias"}


def test_presets_head_only_and_all_trainable(resnet):
    assert freeze_all_but_head(resnet) == "fc"
    assert {n for n, p in resnet.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}
    unfreeze_all(resnet)
    assert not frozen_names(resnet)


def test_train_bn_keeps_norm_affine_parameters_trainable(resnet):
    freeze(resnet, ["layer1"], train_bn=True)
    assert not resnet.layer1[0].conv1.weight.requires_grad
    assert resnet.layer1[0].bn1.weight.requires_grad
    set_train_mode(resnet)
    assert resnet.layer1[0].bn1.training


def test_frozen_batchnorm_runs_in_eval_mode(resnet):
    freeze(resnet, ["layer1", "bn1"])
    set_train_mode(resnet)
    assert not resnet.bn1.training and not resnet.layer1[1].bn2.training
    assert resnet.layer2[0].bn1.training and resnet.training
    before = resnet.layer1[0].bn1.running_mean.clone()
    resnet(torch.randn(2, 3, 64, 64))
    assert torch.equal(resnet.layer1[0].bn1.running_mean, before)
    assert not torch.equal(resnet.layer2[0].bn1.running_mean, torch.zeros(128))


def test_batchnorm_without_affine_follows_its_frozen_parent():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, affine=False)),
                          nn.Conv2d(4, 4, 3))
    freeze(model, ["0"])
    set_train_mode(model)
    assert not model[0][1].training
