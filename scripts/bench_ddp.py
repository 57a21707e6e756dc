"""Training images/s with 1 process and with 2 torchrun processes (gloo) on the CPU: the
same global batch, the same epochs, the threads shared out so both use every core.

Usage: python scripts/bench_ddp.py [--data tlgui/demo_data] [--epochs 3]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(out: Path, procs: int, args) -> float:
    cores = os.cpu_count() or 1
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, cores // procs))}
    batch = args.batch_size // procs
    head = ([shutil.which("torchrun", path=str(Path(sys.executable).parent)),
             "--nproc-per-node", str(procs), "-m", "tlgui"] if procs > 1
            else [sys.executable, "-m", "tlgui"])
    subprocess.run([*head, "train", "--model", args.model, "--weights", "none", "--data",
                    str(args.data), "--epochs", str(args.epochs), "--batch-size", str(batch),
                    "--augment", "none", "--cache", "off", "--no-tensorboard", "--out", str(out)],
                   env=env, check=True, capture_output=True)
    epochs = json.loads((out / "history.json").read_text())["epochs"]
    return max(e["images_per_s"] for e in epochs[1:] or epochs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tlgui" / "demo_data")
    parser.add_argument("--model", default="builtin:vgg64")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        one = run(Path(scratch) / "one", 1, args)
        two = run(Path(scratch) / "two", 2, args)
    print(f"{args.model}, global batch {args.batch_size}, {os.cpu_count()} cores")
    print(f"1 process : {one:8.1f} training images/s")
    print(f"2 processes: {two:8.1f} training images/s (torchrun, gloo)")
    print(f"ratio 2/1 = {two / one:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
