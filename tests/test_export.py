"""Script export: the exported script trains one short epoch and matches the app's model."""

import json
import subprocess
import sys

import pytest

from tlgui.core.config import TrainConfig
from tlgui.core.model.recipe import build
from tlgui.core.project.export import export_script

from .helpers import make_image_folder


@pytest.mark.parametrize("ops", [
    [{"op": "load", "model": "builtin:vgg64", "weights": "none"},
     {"op": "replace_head", "num_classes": 2}, {"op": "freeze", "selectors": ["features"]}],
    [{"op": "load", "model": "resnet18", "weights": "none"},
     {"op": "replace_head", "num_classes": 2}, {"op": "preset", "name": "head-only"},
     {"op": "unfreeze", "selectors": ["layer4.1"]}],
    [{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
     {"op": "branch", "fork": "x", "join": "relu_3", "init": "fresh", "num_classes": 2},
     {"op": "freeze", "selectors": ["conv1", "conv2", "fc1", "fc2"]}],
    [{"op": "load", "model": "resnet18", "weights": "none"},
     {"op": "branch", "fork": "layer3.1.relu_1", "join": "flatten", "num_classes": 2},
     {"op": "freeze", "selectors": ["conv1", "bn1", "layer*"]}],
])
def test_exported_script_rebuilds_the_same_model_and_trains(tmp_path, ops):
    exp = build(ops)
    config = TrainConfig(epochs=1, batch_size=4, lr=0.01, optimizer="sgd")
    script = tmp_path / "train_export.py"
    script.write_text(export_script(exp, config))
    assert "import tlgui" not in script.read_text() and "from tlgui" not in script.read_text()
    data = make_image_folder(tmp_path / "data", per_class=4, val_per_class=1)
    out = subprocess.run([sys.executable, str(script), str(data), "1"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["total_params"] == sum(p.numel() for p in exp.model.parameters())
    assert report["trainable"] == sorted(n for n, p in exp.model.named_parameters()
                                         if p.requires_grad)
    assert "epoch 1: train loss" in out.stderr


def test_two_branches_are_refused_plainly():
    exp = build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
                 {"op": "branch", "fork": "x", "join": "relu_3"},
                 {"op": "branch", "fork": "flatten", "join": "relu_3", "merge": "sum"}])
    with pytest.raises(ValueError, match="more than one parallel branch"):
        export_script(exp, TrainConfig())
