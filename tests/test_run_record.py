"""One source of truth for a run (issue 18): the recorded split, the folder lock, refused
commands that write nothing, damaged caches rebuilt, and one-sentence refusals."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tlgui.core.data.data_index import index_folder
from tlgui.core.project.trained import load_trained
from tlgui.core.train import feature_cache

from .helpers import make_image_folder
from .test_bad_inputs import cli, cli_error, train_args


def single_folder(root: Path) -> Path:
    """``<class>/*`` with no train/ or val/: tlgui splits it itself."""
    made = make_image_folder(root / "made", per_class=10, val_per_class=0)
    single = root / "single"
    (made / "train").rename(single)
    return single


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_evaluate_uses_exactly_the_runs_held_out_files(tmp_path, capsys):
    data = single_folder(tmp_path)
    run = tmp_path / "run"
    code, _, err = cli(capsys, *train_args(data, run, "--seed", "7", "--split-ratio", "0.3"))
    assert code == 0, err
    held_out = [p for p, _ in index_folder(data, split_ratio=0.3, seed=7).splits["valid"]]
    default = [p for p, _ in index_folder(data).splits["valid"]]
    assert set(held_out) != set(default)  # re-deriving the split would pick other files
    recorded = load_trained(run).data_index()
    assert [p for p, _ in recorded.splits["valid"]] == held_out
    assert not set(held_out) & {p for p, _ in recorded.splits["train"]}
    code, out, err = cli(capsys, "evaluate", run, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["images"] == len(held_out) == 6
    assert {m["path"] for m in report["mistakes"]} <= {str(p) for p in held_out}


HOLD = """
import sys, time
from pathlib import Path
from tlgui.core.runs.lock import RunLock
lock = RunLock(sys.argv[1])
lock.acquire()
Path(sys.argv[2]).write_text("held")
while True:
    time.sleep(0.1)
"""


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the holding process never took the lock"
        time.sleep(0.05)


def test_a_run_folder_held_by_a_live_process_is_refused_and_a_dead_holders_lock_is_taken(
        tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", per_class=4, val_per_class=2)
    run, ready = tmp_path / "run", tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run), str(ready)],
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, holder)
        before = hashes(run)
        line = cli_error(capsys, *train_args(data, run), words=("being written", "process",
                                                                str(holder.pid)))
        assert "another --out" in line
        assert hashes(run) == before  # nothing written beside the holder's lock
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (run / ".lock").is_file()  # killed: it could not clean up
    code, _, err = cli(capsys, *train_args(data, run))
    assert code == 0, err
    assert "taking over the lock" in err
    assert (run / "model.safetensors").is_file() and not (run / ".lock").exists()


def test_a_refused_resume_writes_nothing_and_the_run_still_evaluates_and_exports(
        tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", per_class=4, val_per_class=2)
    run = tmp_path / "run"
    assert cli(capsys, *train_args(data, run))[0] == 0
    before = hashes(run)
    args = train_args(data, run, "--resume", run, "--epochs", "2")
    args[args.index("builtin:cifar_net")] = "builtin:vgg64"
    line = cli_error(capsys, *args, words=("cannot resume", "builtin:cifar_net",
                                           "builtin:vgg64"))
    assert "unexpected" not in line
    cli_error(capsys, *train_args(data, run, "--resume", run, "--epochs", "2", "--lr", "0.5"),
              words=("cannot resume", "lr"))
    assert hashes(run) == before
    code, out, err = cli(capsys, "evaluate", run, "--json")
    assert code == 0, err
    assert json.loads(out)["images"] == 4
    script = tmp_path / "train.py"
    assert cli(capsys, "export", run, "--format", "script", "--out", script)[0] == 0
    assert "def make_model" in script.read_text()


def test_a_truncated_feature_cache_is_rebuilt_with_the_same_result(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", per_class=6, val_per_class=2)
    cache = tmp_path / "cache"
    common = ("--preset", "head-only", "--cache", "on", "--cache-dir", cache)
    assert cli(capsys, *train_args(data, tmp_path / "a", *common))[0] == 0
    values = sorted(cache.rglob("values.npy"))
    assert values, "the run wrote no feature cache"
    for path in values:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    feature_cache._MEMORY.clear()  # as in a new process: only the disk cache is left
    code, _, err = cli(capsys, *train_args(data, tmp_path / "b", *common))
    assert code == 0, err
    assert "is damaged; computing the features again" in err
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == \
        (tmp_path / "b" / "model.safetensors").read_bytes()
    feature_cache._MEMORY.clear()
    code, _, err = cli(capsys, *train_args(data, tmp_path / "c", *common))
    assert code == 0 and "damaged" not in err  # the rebuilt cache is whole again
    assert all(np.load(p).shape[0] for p in cache.rglob("values.npy"))


def test_an_existing_file_as_out_gets_one_sentence(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", per_class=4, val_per_class=2)
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    cli_error(capsys, *train_args(data, taken), words=("is a file", "--out"))
    assert taken.read_text() == "mine"


@pytest.mark.parametrize(("rows", "words"), [
    ("path,label\na.jpg,red\nb.jpg,\n", ("line 3", "no label")),
    ("path,label\na.jpg,red\n,blue\n", ("line 3", "no file")),
    ("path,label\na.jpg,red\ngone.jpg,blue\nalso-gone.jpg,blue\n", ("line 3", "gone.jpg",
                                                                    "line 4")),
])
def test_csv_rows_without_a_label_or_a_file_are_reported_with_their_line(tmp_path, capsys,
                                                                          rows, words):
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "a.jpg")
    listing = tmp_path / "list.csv"
    listing.write_text(rows)
    cli_error(capsys, "data", listing, words=words)


def test_the_lock_names_no_holder_after_a_clean_run(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", per_class=4, val_per_class=2)
    run = tmp_path / "run"
    assert cli(capsys, *train_args(data, run))[0] == 0
    assert not (run / ".lock").exists()
    record = json.loads((run / "run.json").read_text())
    assert record["versions"]["torch"] and record["fingerprint"] == \
        index_folder(data).fingerprint()
    assert os.listdir(run)  # and the folder can take a second run at once
    assert cli(capsys, *train_args(data, run, "--resume", run, "--epochs", "2"))[0] == 0


def test_every_line_of_events_jsonl_follows_the_one_schema(tmp_path, capsys):
    from tlgui.core.train.train_events import EVENT_FIELDS

    data = make_image_folder(tmp_path / "data", per_class=4, val_per_class=2)
    run = tmp_path / "run"
    assert cli(capsys, *train_args(data, run, "--epochs", "2", "--unfreeze-at", "2:all",
                                   "--preset", "head-only"))[0] == 0
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    kinds = {e["event"] for e in events}
    assert {"fit_start", "batch_end", "epoch_end", "checkpoint", "unfreeze", "integrity",
            "fit_end"} <= kinds
    for event in events:
        assert set(event) == {"event", "time", *EVENT_FIELDS[event["event"]]}, event
