import json
import subprocess
import sys

import pytest

from tlgui.cli import main

from .conftest import DEMO_DATA


def run_json(capsys, *args: str) -> dict | list:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_inspect_resnet18_counts(capsys):
    doc = run_json(capsys, "inspect", "resnet18", "--weights", "none", "--json")
    assert doc["total_params"] == 11_689_512 == doc["trainable_params"]
    assert doc["tree"]["children"][0]["name"] == "conv1"
    assert doc["tree"]["children"][0]["output_shape"] == [1, 64, 112, 112]


def test_inspect_new_head_and_freeze_leaves_only_the_head_trainable(capsys):
    doc = run_json(capsys, "inspect", "resnet18", "--weights", "none", "--num-classes", "2",
                   "--freeze", "layer*", "conv1", "bn1", "--json")
    assert doc["trainable_params"] == 512 * 2 + 2
    fc = doc["tree"]["children"][-1]
    assert fc["name"] == "fc" and fc["trainable"] == "trainable" and fc["total_params"] == 1026


def test_inspect_text_output(capsys):
    assert main(["inspect", "builtin:cifar_net", "--weights", "none"]) == 0
    out = capsys.readouterr().out
    assert "fc1" in out and "1x120" in out and "total parameters: 62,006" in out


@pytest.mark.parametrize("args, message", [
    (["inspect", "resnt18"], "Did you mean: resnet18"),
    (["inspect", "resnet18", "--weights", "none", "--freeze", "nothing*"], "matches no layer"),
    (["inspect", "resnet18", "--weights", "/no/such/file.pt"], "weights file not found"),
    (["inspect", "x.py:make"], "--trust-code"),
])
def test_bad_input_exits_2_with_a_message(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("tlgui: error:") and message in err and "Traceback" not in err


def test_predict_default_on_demo_images(capsys, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    images = [str(DEMO_DATA / "val" / "ants" / "1053149811_f62a3410d3.jpg"), str(broken)]
    assert main(["predict", "default", *images, "--topk", "3", "--json"]) == 1
    ant, bad = json.loads(capsys.readouterr().out)
    assert len(ant["top"]) == 3 and ant["top"][0]["label"] == "ant"
    assert "cannot read image" in bad["error"]


def test_predict_default_on_the_real_val_set(shared_data, capsys):
    images = sorted(str(p) for p in (shared_data / "val").glob("*/*.jpg"))
    results = run_json(capsys, "predict", "default", *images, "--json")
    hits = sum((310 if "/ants/" in r["image"] else 309) in [t["index"] for t in r["top"]]
               for r in results)
    assert len(results) == 153 and hits / len(results) >= 0.85


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "tlgui", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("tlgui ")


def test_train_head_only_on_the_real_data(shared_data, tmp_path, capsys):
    out = tmp_path / "RUN"
    code = main(["train", "--model", "default", "--data", str(shared_data), "--preset",
                 "head-only", "--epochs", "5", "--out", str(out)])
    assert code == 0
    history = json.loads((out / "history.json").read_text())
    epochs = history["epochs"]
    assert len(epochs) == 5 and epochs[-1]["val_accuracy"] >= 0.90
    assert all(e["cached"] for e in epochs)
    assert max(e["seconds"] for e in epochs[1:]) * 5 < epochs[0]["seconds"]
    gif = str(shared_data / "train" / "ants" / "imageNotFound.gif")
    assert "placeholder" in history["skipped_files"][gif]
    integrity = json.loads((out / "integrity.json").read_text())
    assert integrity["passed"] and integrity["original_tensors"] == 296
    assert (out / "model.safetensors").is_file() and (out / "checkpoints" / "best.pt").is_file()
    assert "integrity PASS" in capsys.readouterr().err


def test_train_with_a_branch_from_the_command_line(tmp_path, capsys):
    from .helpers import make_image_folder

    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    out = tmp_path / "RUN"
    code = main(["train", "--model", "builtin:cifar_net", "--weights", "none", "--data",
                 str(data), "--branch", "flatten:relu_3:fresh:concat", "--freeze", "conv*",
                 "--epochs", "1", "--batch-size", "4", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    run = json.loads((out / "run.json").read_text())
    assert run["recipe"][1] == {"op": "branch", "fork": "flatten", "join": "relu_3",
                                "init": "fresh", "merge": "concat", "num_classes": 2}
    integrity = json.loads((out / "integrity.json").read_text())
    verdicts = {t["name"]: t["verdict"] for t in integrity["tensors"]}
    assert verdicts["conv1.weight"] == "unchanged" and verdicts["branch.fc1.weight"] == "changed"
    assert integrity["passed"]
