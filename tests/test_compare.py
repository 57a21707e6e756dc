"""The experiment grid (issue 10): resume without redoing, failing cells recorded."""

import csv
import json

import pytest

from tlgui.cli import main
from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import index_folder
from tlgui.core.model.recipe import build
from tlgui.core.project.trained import load_trained
from tlgui.core.runs.grid import COLUMNS, Grid, cell_recipe, load_rows, run_grid
from tlgui.core.train.train_events import StopToken

from .helpers import make_image_folder


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return index_folder(make_image_folder(tmp_path_factory.mktemp("grid") / "data",
                                          per_class=8, val_per_class=3))


def config() -> TrainConfig:
    return TrainConfig(epochs=2, batch_size=4, seed=1)


def test_a_grid_stopped_after_its_first_cell_resumes_without_redoing_it(data, tmp_path):
    stop = StopToken()
    grid = Grid(["builtin:cifar_net"], ["shallow", "deep"], config(), tmp_path)
    rows = run_grid(grid, data, stop=stop, on_row=lambda row: stop.stop())
    assert [(r["model"], r["strategy"]) for r in rows] == [("builtin:cifar_net", "shallow")]
    first = json.loads((tmp_path / "results.json").read_text())[0]
    ran = []
    again = Grid(["builtin:cifar_net"], ["shallow", "deep"], config(), tmp_path,
                 load_rows(tmp_path))
    rows = run_grid(again, data, on_cell=lambda n, total, m, s: ran.append((m, s)))
    assert ran == [("builtin:cifar_net", "deep")]
    assert [r["strategy"] for r in rows] == ["shallow", "deep"] and rows[0] == first
    table = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert len(table) == 2 and tuple(table[0]) == COLUMNS
    for row in rows:
        assert row["error"] is None and row["integrity_passed"] is True
        assert row["inference_ms_batch1"] > 0 and row["inference_ms_batch32"] > 0
        assert 0 <= row["best_val_accuracy"] <= 1 and len(row["seconds_per_epoch"]) == 2
    shallow, deep = rows
    assert shallow["trainable_params"] < deep["trainable_params"] == deep["params"]
    cell = load_trained(tmp_path / "builtin_cifar_net__deep")  # an ordinary run folder
    assert cell.classes == ["blue", "red"]


def test_a_failing_cell_is_recorded_and_the_next_one_runs(data, tmp_path):
    grid = Grid(["builtin:nope", "builtin:cifar_net"], ["shallow"], config(), tmp_path)
    rows = run_grid(grid, data)
    assert len(rows) == 2
    assert "no built-in model 'nope'" in rows[0]["error"] and rows[0]["params"] is None
    assert rows[1]["error"] is None and rows[1]["best_val_accuracy"] is not None


def offline(strategy: str):
    """The cell's recipe on random weights (no download needed to check its freezing)."""
    load, *rest = cell_recipe("resnet18", strategy, 3, 0)
    return build([{**load, "weights": "none"}, *rest]).model


def test_strategies_freeze_what_they_say():
    shallow = offline("shallow")
    assert {n for n, p in shallow.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}
    partial = offline("partial:2")
    names = {n.rsplit(".", 1)[0] for n, p in partial.named_parameters() if p.requires_grad}
    assert {"fc", "layer4.0.conv1", "layer4.1.conv2"} <= names and "layer3.1.conv1" not in names
    assert cell_recipe("resnet18", "scratch", 3, 0)[0]["weights"] == "none"


def test_compare_from_the_command_line_refuses_to_mix_results(data, tmp_path, capsys):
    argv = ["compare", "--data", str(data.root), "--models", "builtin:cifar_net",
            "--strategies", "shallow", "--epochs", "1", "--batch-size", "4", "--out",
            str(tmp_path)]
    assert main(argv) == 0
    assert "builtin:cifar_net      shallow" in capsys.readouterr().out
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    argv[argv.index("shallow")] = "half"
    assert main(argv) == 2 and "partial:K" in capsys.readouterr().err
