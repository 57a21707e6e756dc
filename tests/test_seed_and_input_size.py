"""Same seed, same run; any model's input size (issue 9)."""

import json

import pytest
import torch
from torch import nn

from tlgui.cli import main
from tlgui.core import add_parallel_branch
from tlgui.core.errors import InputSizeError
from tlgui.core.model.recipe import build
from tlgui.core.model.tree import LayerTree, find_input_size

from .bad_inputs import tutorial_net_file
from .helpers import make_image_folder


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("seed") / "data", per_class=8,
                             val_per_class=3)


def _train(data, out, *extra) -> tuple[dict, dict]:
    # light augmentation and random head initialisation: both must follow the seed
    assert main(["train", "--model", "builtin:vgg64", "--weights", "none", "--data", str(data),
                 "--epochs", "2", "--batch-size", "4", "--augment", "light", "--preset",
                 "head-only", "--deterministic", "--out", str(out), *extra]) == 0
    from safetensors.torch import load_file

    history = json.loads((out / "history.json").read_text())["epochs"]
    return history, load_file(str(out / "model.safetensors"))


def test_same_seed_gives_bit_identical_history_and_weights(data, tmp_path):
    first, first_weights = _train(data, tmp_path / "a", "--seed", "3")
    second, second_weights = _train(data, tmp_path / "b", "--seed", "3")
    other, other_weights = _train(data, tmp_path / "c", "--seed", "4")
    strip = [{k: v for k, v in h.items() if k not in ("seconds", "images_per_s")} for h in first]
    assert strip == [{k: v for k, v in h.items() if k not in ("seconds", "images_per_s")}
                     for h in second]
    assert all(torch.equal(first_weights[k], second_weights[k]) for k in first_weights)
    assert not all(torch.equal(first_weights[k], other_weights[k]) for k in first_weights)


def test_recipe_replays_to_the_same_new_head_and_branch():
    ops = [{"op": "load", "model": "builtin:cifar_net", "weights": "none", "seed": 7},
           {"op": "branch", "fork": "pool", "join": "fc2", "init": "fresh", "merge": "concat",
            "num_classes": 3}]
    torch.manual_seed(123)
    one = build(ops).model.state_dict()
    torch.manual_seed(456)  # the global generator does not matter, the recipe's seed does
    two = build(ops).model.state_dict()
    assert one.keys() == two.keys() and all(torch.equal(one[k], two[k]) for k in one)
    three = build([{**ops[0], "seed": 8}, ops[1]]).model.state_dict()
    assert not torch.equal(one["fc3.weight"], three["fc3.weight"])


def test_tutorial_net_without_input_size_inspects_with_shapes(tmp_path, capsys):
    spec = f"{tutorial_net_file(tmp_path)}:make"
    assert main(["inspect", spec, "--weights", "none", "--trust-code", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["input_size"] == [3, 32, 32]
    shapes = {n["name"]: n["output_shape"] for n in doc["tree"]["children"]}
    assert shapes["conv1"] == [1, 6, 28, 28] and shapes["fc1"] == [1, 120]
    assert main(["inspect", spec, "--weights", "none", "--trust-code"]) == 0
    assert "input size 3x32x32: the first size tried" in capsys.readouterr().out
    assert main(["inspect", spec, "--weights", "none", "--trust-code", "--input-size",
                 "3x64x64"]) == 2
    err = capsys.readouterr().err
    assert "does not run on input size 3x64x64" in err and "Traceback" not in err


def test_tutorial_net_grows_a_branch_without_input_size(tmp_path):
    import importlib.util

    module_spec = importlib.util.spec_from_file_location("mine", tutorial_net_file(tmp_path))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    net = module.Net()
    assert not hasattr(net, "input_size")
    bigger = add_parallel_branch(net, "view", "relu_3", init="copy", merge="concat",
                                 num_classes=4)
    out = bigger(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 4)
    tree = LayerTree(bigger, find_input_size(bigger))
    assert tree.root.total_params > sum(p.numel() for p in net.parameters())


def test_tutorial_net_trains_from_the_cli(tmp_path, data):
    spec = f"{tutorial_net_file(tmp_path)}:make"
    assert main(["train", "--model", spec, "--weights", "none", "--trust-code", "--data",
                 str(data), "--epochs", "1", "--batch-size", "4", "--out",
                 str(tmp_path / "run")]) == 0
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["classes"] == ["blue", "red"]
    assert json.loads((tmp_path / "run" / "integrity.json").read_text())["passed"]


def test_grey_models_and_models_that_fit_nothing():
    grey = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    assert find_input_size(grey) == (1, 28, 28)
    odd = nn.Sequential(nn.Flatten(), nn.Linear(3 * 17 * 17, 2))
    with pytest.raises(InputSizeError, match="ran on none of the input sizes tried"):
        find_input_size(odd)
    assert find_input_size(odd, (3, 17, 17)) == (3, 17, 17)
