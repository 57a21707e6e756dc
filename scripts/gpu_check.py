"""One prepared check of the CUDA path, for a machine with a GPU (issue 23).

In order, each in its own process with its own time limit:

1. the tests that take the CUDA path when CUDA is there (the side-stream feed with pinned
   batches, pinned memory, mixed precision, the engine's bit-exact runs, the image cache);
2. a real ``tlgui train --amp --channels-last --image-cache`` on the bundled demo photos;
3. ``torchrun`` with one process per GPU, and, on a one-GPU machine, two processes, which
   must be refused in one sentence;
4. ``scripts/bench_gpu.py`` at a small size: engine against a best-practice hand loop.

Then one summary: pass or fail per check, images/s, engine / hand loop, peak GPU memory.
Without CUDA it says so and exits 0. Sized to finish in under 8 minutes on one GPU; it
needs only what ``pip install -e '.[test]'`` installs.

Usage: python scripts/gpu_check.py [--out DIR] [--allow-cpu]
(``--allow-cpu``: the same steps on the CPU, to check this script itself; no GPU figures.)
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "tlgui" / "demo_data"
CUDA_TESTS = ["tests/test_device_feed.py", "tests/test_precision.py",
              "tests/test_gpu_readiness.py", "tests/test_engine.py", "tests/test_image_cache.py",
              "tests/test_seed_and_input_size.py"]


@dataclass
class Check:
    name: str
    passed: bool = False
    seconds: float = 0.0
    figures: dict = field(default_factory=dict)
    detail: str = ""


def run(command: list[str], limit: int, log: Path) -> tuple[int, str, float]:
    """The command's exit status and output (also written to ``log``)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=limit,
                              env={**os.environ, "PYTHONUNBUFFERED": "1",
                                   "QT_QPA_PLATFORM": "offscreen"})
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code = 124
        output = f"{exc.stdout or ''}{exc.stderr or ''}\n(stopped after {limit} s)"
    log.write_text(output if isinstance(output, str) else output.decode(errors="replace"))
    return code, output, time.perf_counter() - start


def tests(out: Path) -> Check:
    code, output, seconds = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "-rs", *CUDA_TESTS], 240, out / "tests.log")
    tail = [line for line in output.splitlines() if " passed" in line or " failed" in line]
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    return Check("CUDA tests", code == 0, seconds, {"skipped": len(skipped)},
                 tail[-1] if tail else output.strip().splitlines()[-1:][0] if output else "")


def train(out: Path) -> Check:
    run_dir = out / "train-run"
    command = [sys.executable, "-m", "tlgui", "train", "--data", str(DEMO), "--preset", "all",
               "--epochs", "3", "--batch-size", "32", "--amp", "--channels-last",
               "--image-cache", str(out / "decoded"), "--device", "cuda",
               "--no-tensorboard", "--out", str(run_dir)]
    code, output, seconds = run(command, 150, out / "train.log")
    check = Check("tlgui train --amp --channels-last --image-cache", code == 0, seconds)
    history = run_dir / "history.json"
    if history.is_file():
        epochs = json.loads(history.read_text())["epochs"]
        check.figures["images/s per epoch"] = [round(e["images_per_s"], 1) for e in epochs]
        check.figures["val accuracy"] = epochs[-1]["val_accuracy"]
    integrity = run_dir / "integrity.json"
    check.passed = check.passed and integrity.is_file() and \
        json.loads(integrity.read_text())["passed"]
    precision = [line for line in output.splitlines() if line.startswith("training ")]
    check.detail = precision[0] if precision else output.strip().splitlines()[-1:][0]
    return check


def torchrun(out: Path) -> Check:
    launcher = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    gpus = max(torch.cuda.device_count(), 1)
    common = ["-m", "tlgui", "train", "--model", "builtin:cifar_net", "--weights", "none",
              "--data", str(DEMO), "--epochs", "1", "--batch-size", "16", "--no-tensorboard"]
    code, output, seconds = run([launcher, "--nproc-per-node", str(gpus), "--master-port",
                                 "29611", *common, "--out", str(out / "ddp-run")], 120,
                                out / "torchrun.log")
    check = Check(f"torchrun, {gpus} process(es) on {gpus} GPU(s)", code == 0, seconds)
    check.detail = (re.findall(r".*ranks hold.*|integrity \w+.*", output) or [""])[-1]
    if torch.cuda.device_count() == 1:
        code, refused, more = run([launcher, "--nproc-per-node", "2", "--master-port", "29612",
                                   *common, "--out", str(out / "ddp-too-many")], 90,
                                  out / "torchrun-too-many.log")
        said = "more processes on this machine than it has GPUs" in refused
        check.passed = check.passed and code != 0 and said
        check.seconds += more
        check.figures["two processes on one GPU refused in one sentence"] = said
    return check


def bench(out: Path) -> Check:
    cpu = [] if torch.cuda.is_available() else ["--allow-cpu"]
    images = "64" if cpu else "1024"
    code, output, seconds = run([sys.executable, "scripts/bench_gpu.py", "--images", images,
                                 "--epochs", "2", "--models", "default", *cpu], 270,
                                out / "bench.log")
    check = Check(f"scripts/bench_gpu.py ({images} images, default model)", code == 0, seconds)
    found = re.search(r"hand loop\s+([\d.]+) · engine\s+([\d.]+) · engine/hand ([\d.]+)", output)
    if found:
        check.figures.update({"hand loop images/s": float(found[1]),
                              "engine images/s": float(found[2]),
                              "engine / hand loop": float(found[3])})
    peaks = re.search(r"peak GPU memory per epoch \(MB\): (.*)", output)
    if peaks:
        check.figures["peak GPU memory per epoch (MB)"] = peaks[1].strip()
    check.detail = "" if code == 0 else output.strip().splitlines()[-1:][0]
    return check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="keep the logs here (default: a temporary "
                        "folder, removed afterwards)")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="run the steps on the CPU (a check of this script)")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("no CUDA device here: nothing checked. Run this on a machine with an NVIDIA GPU "
              f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}).")
        return 0
    if torch.cuda.is_available():
        print(f"{torch.cuda.get_device_name(0)} · compute capability "
              f"{'.'.join(map(str, torch.cuda.get_device_capability(0)))} · torch "
              f"{torch.__version__} · CUDA {torch.version.cuda}", flush=True)
    else:
        print("no CUDA: the steps run on the CPU to check this script; no GPU figures")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        results = []
        for step in (tests, train, torchrun, bench):
            results.append(step(out))
            print(f"  {'PASS' if results[-1].passed else 'FAIL'}  {results[-1].name} "
                  f"({results[-1].seconds:.0f} s)", flush=True)
        print("\nsummary")
        for check in results:
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}  ({check.seconds:.0f} s)")
            if check.detail:
                print(f"      {check.detail}")
            for key, value in check.figures.items():
                print(f"      {key}: {value}")
        if args.out:
            print(f"logs: {out}")
    return 0 if all(check.passed for check in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
