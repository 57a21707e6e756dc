"""events.jsonl and TensorBoard files of a run (issue 12)."""

import json

from tlgui.cli import main

from .helpers import make_image_folder


def test_a_run_writes_events_and_tensorboard_files_that_read_back(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=8, val_per_class=2)
    run = tmp_path / "run"
    assert main(["train", "--model", "builtin:cifar_net", "--weights", "none", "--data",
                 str(data), "--epochs", "2", "--batch-size", "4", "--out", str(run)]) == 0
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert [k for k in kinds if k != "message"][0] == "fit_start" and kinds[-1] == "fit_end"
    assert kinds.count("epoch_end") == 2 and kinds.count("checkpoint") == 2
    assert "batch_end" in kinds and "integrity" in kinds
    epoch = next(e for e in events if e["event"] == "epoch_end")
    assert {"train_loss", "val_accuracy", "lr"} <= set(epoch)
    assert next(e for e in events if e["event"] == "integrity")["passed"] is True

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run / "tb"))
    accumulator.Reload()
    scalars = set(accumulator.Tags()["scalars"])
    assert {"batch/loss", "epoch/train_loss", "epoch/val_accuracy", "lr/group0"} <= scalars
    assert [e.step for e in accumulator.Scalars("epoch/val_loss")] == [1, 2]
    graph = accumulator.Graph()
    assert any("conv1" in node.name for node in graph.node)


def test_no_tensorboard_leaves_only_the_event_log(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    run = tmp_path / "run"
    assert main(["train", "--model", "builtin:cifar_net", "--weights", "none", "--data",
                 str(data), "--epochs", "1", "--batch-size", "4", "--no-tensorboard",
                 "--out", str(run)]) == 0
    assert (run / "events.jsonl").is_file() and not (run / "tb").exists()
