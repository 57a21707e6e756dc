from collections import OrderedDict

import pytest
import torch
from torch import nn

from tlgui.core import (
    SurgeryError,
    classifier_width,
    find_classifier,
    load_model,
    provenance,
    replace_head,
)


def test_resnet_head_is_fc_and_is_replaced_fresh():
    loaded = load_model("resnet18", "none")
    model = loaded.model
    old = model.fc
    assert replace_head(model, 2) == "fc"
    assert model.fc is not old and model.fc.in_features == 512 and model.fc.out_features == 2
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 2)


def test_sequential_classifier_last_linear():
    model = load_model("mobilenet_v3_small", "none").model
    assert find_classifier(model) == "classifier.3"
    replace_head(model, 7)
    assert classifier_width(model) == 7


def test_builtin_vgg64_and_cifar_net_heads():
    vgg = load_model("builtin:vgg64", "none").model
    assert find_classifier(vgg) == "classifier.7"
    net = load_model("builtin:cifar_net", "none").model
    assert find_classifier(net) == "fc3"


def test_vit_style_heads_head():
    model = nn.Sequential(OrderedDict(body=nn.Linear(8, 8), heads=nn.Sequential(
        OrderedDict(head=nn.Linear(8, 1000)))))
    assert find_classifier(model) == "heads.head"


def test_timm_classifier_via_get_classifier(default_model):
    import copy

    model = copy.deepcopy(default_model.model)
    assert find_classifier(model) == "classifier"
    replace_head(model, 2)
    assert model.num_classes == 2 and model.get_classifier().out_features == 2
    origins = provenance(model)
    assert origins["classifier.weight"].kind == "fresh"
    assert origins["conv_stem.weight"].kind == "pretrained"
    assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 2)


def test_fallback_to_last_linear_and_errors():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3), nn.Softmax(dim=1))
    assert find_classifier(model) == "2"
    with pytest.raises(SurgeryError, match="no Linear layer"):
        find_classifier(nn.Sequential(nn.Conv2d(3, 3, 1)))
    with pytest.raises(SurgeryError, match="at least 1"):
        replace_head(model, 0)
