import json
import zipfile

import pytest
import torch

from tlgui.core.config import TrainConfig
from tlgui.core.model.recipe import build
from tlgui.core.model.snapshots import snapshot
from tlgui.core.project.project import Project, ProjectError, load_project, save_project


def experiment():
    return build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
                  {"op": "branch", "fork": "flatten", "join": "relu_3", "init": "fresh"},
                  {"op": "replace_head", "num_classes": 3},
                  {"op": "freeze", "selectors": ["conv*"]}])


def test_save_then_open_restores_hashes_freezing_recipe_and_history(tmp_path):
    exp = experiment()
    with torch.no_grad():
        exp.model.branch.fc1.weight.add_(0.25)  # as if trained
    history = [{"epoch": 0, "train_loss": 1.0, "val_accuracy": 0.5}]
    config = TrainConfig(epochs=7, lr=0.02)
    path = save_project(tmp_path / "run.tlgui", Project(exp, config, history, "/data"))
    assert not list(tmp_path.glob("*.tmp"))
    opened = load_project(path)
    assert opened.experiment.ops == exp.ops and opened.history == history
    assert opened.config == config and opened.data_folder == "/data"
    assert snapshot(opened.experiment.model).hashes() == snapshot(exp.model).hashes()
    flags = {n: p.requires_grad for n, p in exp.model.named_parameters()}
    assert {n: p.requires_grad for n, p in opened.experiment.model.named_parameters()} == flags


def test_newer_or_damaged_projects_fail_plainly(tmp_path):
    path = save_project(tmp_path / "p.tlgui", Project(experiment()))
    with zipfile.ZipFile(path) as archive:
        doc = json.loads(archive.read("project.json"))
        weights = archive.read("weights.safetensors")
    doc["format"], doc["app_version"] = 99, "9.0"
    newer = tmp_path / "newer.tlgui"
    with zipfile.ZipFile(newer, "w") as archive:
        archive.writestr("project.json", json.dumps(doc))
        archive.writestr("weights.safetensors", weights)
    with pytest.raises(ProjectError, match="newer tlgui .*format 99.*Update tlgui"):
        load_project(newer)
    broken = tmp_path / "broken.tlgui"
    broken.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ProjectError, match="not a tlgui project"):
        load_project(broken)
    with pytest.raises(ProjectError, match="not found"):
        load_project(tmp_path / "none.tlgui")
