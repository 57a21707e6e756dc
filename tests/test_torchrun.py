"""tlgui train under torchrun (issue 12): 2 processes with gloo on the CPU."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tlgui.core.train import checkpoints

from .conftest import DEMO_DATA
from .helpers import make_image_folder

TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which(
    "torchrun")
pytestmark = pytest.mark.skipif(TORCHRUN is None, reason="torchrun is not installed")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def train(out: Path, *extra: str, procs: int = 0, batch: int = 8, epochs: int = 2,
          data: Path = DEMO_DATA, wait: bool = True):
    command = [TORCHRUN, "--nproc-per-node", str(procs), "--master-port", str(29500 + procs
                                                                              + os.getpid() % 500),
               "-m", "tlgui"] if procs else [sys.executable, "-m", "tlgui"]
    command += ["train", "--model", "builtin:cifar_net", "--weights", "none", "--data",
                str(data), "--epochs", str(epochs), "--batch-size", str(batch), "--lr", "0.01",
                "--optimizer", "sgd", "--augment", "none", "--device", "cpu", "--out", str(out),
                *extra]
    if not wait:
        return subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)


def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    two = train(tmp_path / "two", "--no-amp", procs=2, batch=8)
    assert two.returncode == 0, two.stderr
    assert "2 ranks hold bit-identical models" in two.stdout + two.stderr
    one = train(tmp_path / "one", "--no-amp", batch=16)
    assert one.returncode == 0, one.stderr
    a, b = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("one", "two"))
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-5, worst  # the same batches; only the order of float sums differs
    history = json.loads((tmp_path / "two" / "history.json").read_text())["epochs"]
    assert len(history) == 2 and history[-1]["val_accuracy"] is not None
    assert sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir()) == \
        ["best.pt", "last.pt"]
    events = (tmp_path / "two" / "events.jsonl").read_text().splitlines()
    assert sum('"event": "fit_start"' in line for line in events) == 1  # rank 0 alone writes


def test_cached_features_under_two_processes(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=8, val_per_class=3)
    done = subprocess.run(
        [TORCHRUN, "--nproc-per-node", "2", "--master-port", str(29700 + os.getpid() % 200),
         "-m", "tlgui", "train", "--device", "cpu", "--model", "builtin:vgg64", "--weights", "none", "--data",
         str(data), "--preset", "head-only", "--epochs", "2", "--batch-size", "4",
         "--cache-dir", str(tmp_path / "features"), "--out", str(tmp_path / "run")],
        env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "cached features" in done.stdout + done.stderr
    assert json.loads((tmp_path / "run" / "integrity.json").read_text())["passed"]
    assert len(list((tmp_path / "features").glob("*/values.npy"))) == 2  # train and val, once


def descendants(pid: int) -> list[int]:
    """Child processes, recursively (torchrun starts its workers in sessions of their own)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def kill_tree(pid: int) -> None:
    for victim in [pid, *descendants(pid)]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_killed_two_process_run_resumes(tmp_path):
    run = tmp_path / "run"
    process = train(run, procs=2, epochs=400, wait=False)
    last = run / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    try:
        while not last.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert last.exists(), process.stderr.read() if process.poll() is not None else "slow"
    finally:
        kill_tree(process.pid)  # as when the machine goes down: torchrun and every worker
        process.wait()
    saved = checkpoints.load(run / "checkpoints")
    done = saved["epoch"]
    resumed = train(run, "--resume", str(run), procs=2, epochs=done + 1)
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((run / "history.json").read_text())["epochs"]
    assert len(history) == done + 1 and history[:done] == saved["history"]


FAILS_ON_RANK_1 = '''
import os
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 32 * 32, 2)

    def forward(self, x):
        if self.training and os.environ.get("RANK") == "1":
            raise RuntimeError("the sensor on rank 1 is broken")
        return self.fc(x.flatten(1))


def make():
    return Net()
'''


def test_an_error_on_one_rank_ends_every_rank_with_the_message(tmp_path):
    factory = tmp_path / "net.py"
    factory.write_text(FAILS_ON_RANK_1)
    start = time.monotonic()
    done = subprocess.run(
        [TORCHRUN, "--nproc-per-node", "2", "--master-port", str(29900 + os.getpid() % 90),
         "-m", "tlgui", "train", "--device", "cpu", "--model", f"{factory}:make", "--trust-code", "--weights",
         "none", "--input-size", "3x32x32", "--cache", "off", "--data", str(DEMO_DATA), "--epochs", "2",
         "--batch-size", "8", "--out", str(tmp_path / "run")],
        env=ENV, capture_output=True, text=True, timeout=240)
    assert done.returncode != 0
    assert "tlgui: error (rank 1): unexpected error (the sensor on rank 1 is broken)" in done.stderr
    assert time.monotonic() - start < 200  # ended, not hung until a collective times out
