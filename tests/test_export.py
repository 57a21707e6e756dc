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
    assert report["trainable"] == sorted(n for n, p in exp.model.named_parameters()
                                         if p.requires_grad)
    assert "epoch 1: train loss" in out.stderr
    module = _import_script(script)  # the same network: same outputs from the same weights
    rebuilt = module.build()
    rebuilt.load_state_dict(exp.model.state_dict())
    images = sorted((data / "val").rglob("*.jpg"))
    ours = _logits(exp.model, exp.loaded.transform, images)
    assert (_logits(rebuilt, module.TRANSFORM, images) - ours).abs().max().item() <= 1e-5


def test_two_branches_are_refused_plainly():
    exp = build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
                 {"op": "branch", "fork": "x", "join": "relu_3"},
                 {"op": "branch", "fork": "flatten", "join": "relu_3", "merge": "sum"}])
    with pytest.raises(ValueError, match="more than one parallel branch"):
        export_script(exp, TrainConfig())


def _import_script(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines build() and TRANSFORM; main() does not run
    return module


def _logits(model, transform, images):
    import torch
    from PIL import Image

    batch = torch.stack([transform(Image.open(p).convert("RGB")) for p in images])
    with torch.no_grad():
        return model.eval()(batch)


DEMO = __import__("pathlib").Path(__file__).resolve().parents[1] / "tlgui" / "demo_data"


@pytest.mark.slow
@pytest.mark.parametrize("model", ["default", "efficientnet_lite1", "efficientnet_lite2",
                                   "builtin:cifar_net"])
def test_the_exported_script_rebuilds_each_bundled_model_with_the_apps_outputs(tmp_path, model):
    """The script's make_model() brings the same pretrained weights (every frozen tensor
    equal before any trained weight is loaded) and the same eval transform."""
    import torch

    weights = "none" if model.startswith("builtin:") else "default"
    exp = build([{"op": "load", "model": model, "weights": weights},
                 {"op": "replace_head", "num_classes": 2}, {"op": "preset", "name": "head-only"}])
    script = tmp_path / "train_export.py"
    script.write_text(export_script(exp, TrainConfig()))
    rebuilt = _import_script(script).build()
    ours = exp.model.state_dict()
    frozen = [n for n, p in exp.model.named_parameters() if not p.requires_grad]
    if weights == "default":
        assert all(torch.equal(rebuilt.state_dict()[n], ours[n]) for n in frozen)
    rebuilt.load_state_dict(ours)
    images = sorted((DEMO / "val" / "ants").glob("*.jpg"))[:4]
    module = _import_script(script)
    delta = (_logits(rebuilt, module.TRANSFORM, images)
             - _logits(exp.model, exp.loaded.transform, images)).abs().max().item()
    assert delta <= 1e-5


@pytest.mark.slow
def test_the_exported_script_of_a_trained_lite1_run_matches_its_logits(tmp_path, capsys):
    import torch
    from safetensors.torch import load_file

    from tlgui.cli import main
    from tlgui.core.project.trained import load_trained

    run = tmp_path / "run"
    assert main(["train", "--model", "efficientnet_lite1", "--data", str(DEMO), "--preset",
                 "head-only", "--epochs", "1", "--out", str(run), "--no-tensorboard"]) == 0
    script = tmp_path / "lite1.py"
    assert main(["export", str(run), "--format", "script", "--out", str(script),
                 "--checkpoint", "last"]) == 0
    module = _import_script(script)
    rebuilt = module.build()
    rebuilt.load_state_dict(load_file(str(run / "model.safetensors")))
    trained = load_trained(run, checkpoint="last").loaded
    images = sorted((DEMO / "val" / "bees").glob("*.jpg"))[:6]
    ours = _logits(trained.model, trained.transform, images)
    assert not torch.allclose(ours[:, 0], ours[:, 1])  # a real two-class head
    assert (_logits(rebuilt, module.TRANSFORM, images) - ours).abs().max().item() <= 1e-5
