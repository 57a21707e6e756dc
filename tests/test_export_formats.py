"""ONNX and TorchScript exports against PyTorch on real photos (issue 11)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from tlgui.cli import main
from tlgui.core.data.image_check import open_rgb
from tlgui.core.inference.export_formats import export_model
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.model.recipe import build
from tlgui.onnx_predict import predict as onnx_predict

from .conftest import DEMO_DATA

pytest.importorskip("onnxruntime", reason="the export extra (onnx, onnxruntime) is not installed")

PHOTOS = sorted((DEMO_DATA / "val").rglob("*.jpg"))[::6]
MODELS = {
    "default": [{"op": "load", "model": "default", "weights": "default"},
                {"op": "replace_head", "num_classes": 2}],
    "branched resnet18": [{"op": "load", "model": "resnet18", "weights": "none"},
                          {"op": "branch", "fork": "layer3.1.relu_1", "join": "flatten",
                           "init": "copy", "merge": "concat", "num_classes": 2}],
}


@pytest.fixture(scope="module", params=list(MODELS))
def exported(request, tmp_path_factory) -> tuple[LoadedModel, dict]:
    exp = build(MODELS[request.param])
    base = exp.loaded
    loaded = LoadedModel(exp.model.eval(), base.transform, ["ant", "bee"], base.input_size,
                         request.param, "none")
    folder = tmp_path_factory.mktemp("export")
    files = {fmt: export_model(loaded, fmt, folder / f"model.{fmt}")[0]
             for fmt in ("onnx", "torchscript")}
    return loaded, files


@torch.no_grad()
def reference(loaded: LoadedModel) -> torch.Tensor:
    return loaded.model(torch.stack([loaded.transform(open_rgb(p)) for p in PHOTOS]))


def test_onnx_and_torchscript_match_pytorch_on_real_photos(exported):
    loaded, files = exported
    assert len(PHOTOS) >= 5
    expected = reference(loaded)
    onnx_logits = torch.tensor([r["logits"] for r in onnx_predict(str(files["onnx"]),
                                                                  list(map(str, PHOTOS)))])
    script = torch.jit.load(str(files["torchscript"]))
    from tlgui.core.inference.export_formats import preprocessing
    from tlgui.onnx_predict import preprocess

    spec = preprocessing(loaded)
    batch = torch.from_numpy(np.stack([preprocess(str(p), spec) for p in PHOTOS]))
    with torch.no_grad():
        script_logits = script(batch)
    for logits in (onnx_logits, script_logits):
        assert (logits - expected).abs().max() <= 1e-4
        assert torch.equal(logits.argmax(1), expected.argmax(1))
    assert script(batch[:1]).shape == (1, 2)  # dynamic batch


def test_metadata_travels_in_the_file_and_the_sidecar(exported):
    loaded, files = exported
    import onnx

    props = {p.key: p.value for p in onnx.load(str(files["onnx"])).metadata_props}
    meta = json.loads(props["tlgui"])
    assert meta["classes"] == ["ant", "bee"] and json.loads(props["classes"]) == ["ant", "bee"]
    assert meta["preprocessing"]["center_crop"] == loaded.input_size[1]
    extra = {"tlgui.json": ""}
    torch.jit.load(str(files["torchscript"]), _extra_files=extra)
    assert json.loads(extra["tlgui.json"]) == meta
    sidecar = json.loads(files["onnx"].with_name("model.onnx.json").read_text())
    assert sidecar["preprocessing"] == meta["preprocessing"]


def test_onnx_predicts_where_torch_cannot_be_imported(exported):
    loaded, files = exported
    code = ("import sys, json; sys.modules['torch'] = None\n"
            "from tlgui.onnx_predict import main\n"
            f"main([{str(files['onnx'])!r}, *{list(map(str, PHOTOS))!r}, '--json'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    expected = reference(loaded).softmax(1)
    for result, probs in zip(results, expected, strict=True):
        assert result["top"][0]["label"] == ["ant", "bee"][int(probs.argmax())]
        assert abs(result["top"][0]["probability"] - float(probs.max())) < 1e-4


def test_export_a_run_from_the_command_line(tmp_path, capsys):
    from .helpers import make_image_folder

    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    assert main(["train", "--model", "builtin:cifar_net", "--weights", "none", "--data",
                 str(data), "--epochs", "1", "--batch-size", "4", "--out",
                 str(tmp_path / "run")]) == 0
    for fmt, name in (("onnx", "m.onnx"), ("torchscript", "m.pt"), ("script", "train.py")):
        assert main(["export", str(tmp_path / "run"), "--format", fmt, "--out",
                     str(tmp_path / "out" / name)]) == 0
        assert (tmp_path / "out" / name).stat().st_size > 0
    meta = json.loads((tmp_path / "out" / "m.onnx.json").read_text())
    assert meta["classes"] == ["blue", "red"] and meta["preprocessing"]["size"] == [3, 32, 32]
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "run"), str(data / "val"), "--topk", "1",
                 "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 4 and {r["top"][0]["label"] for r in results} <= {"blue", "red"}
