"""The GPU path, measured: full fine-tuning with bf16 autocast and channels-last at batch 64,
for the default model and ResNet-50 (random weights are fine):

(a) the ceiling: the same training step on batches already on the GPU;
(b) a hand-written best-practice loop: 8 workers, pinned memory, autocast, channels-last;
(c) the tlgui engine (decoded-image cache, batch augmentation on the GPU).

Prints images/s for each, engine/hand and engine/ceiling, the rate at which batched JPEG
decoding on the GPU fills the decoded-image cache (``--gpu-decode``), head-only training
with cached features against one inference pass, and the peak GPU memory of every epoch (it
must not grow). Needs CUDA; ``--allow-cpu`` runs a tiny smoke test of the same code on the CPU.

Usage: python scripts/bench_gpu.py [--images 2048] [--epochs 3] [--models default resnet50]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_loader import make_jpegs  # noqa: E402

from tlgui.core.config import TrainConfig  # noqa: E402
from tlgui.core.data.data_index import index_folder  # noqa: E402
from tlgui.core.data.datasets import (  # noqa: E402
    ImageFiles,
    describe_eval_transform,
    make_loader,
    train_transform,
)
from tlgui.core.data.gpu_decode import fill_cache  # noqa: E402
from tlgui.core.data.image_cache import DecodedCache, ResizeSpec  # noqa: E402
from tlgui.core.model.recipe import build  # noqa: E402
from tlgui.core.train.engine import Trainer  # noqa: E402
from tlgui.core.train.train_events import TrainListener


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_fn(model: nn.Module, device: torch.device):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    dtype = torch.bfloat16

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=device.type == "cuda"):
            loss = nn.functional.cross_entropy(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def fresh(spec: str, classes: int, device: torch.device):
    exp = build([{"op": "load", "model": spec, "weights": "none"},
                 {"op": "replace_head", "num_classes": classes}])
    model = exp.model.to(device).to(memory_format=torch.channels_last).train()
    return exp, model


def ceiling(spec: str, data, batch: int, steps: int, device: torch.device) -> float:
    exp, model = fresh(spec, len(data.classes), device)
    size = exp.loaded.input_size
    images = torch.rand(batch, *size, device=device).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, len(data.classes), (batch,), device=device)
    step = step_fn(model, device)
    for _ in range(3):
        step(images, labels)
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step(images, labels)
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def hand_loop(spec: str, data, batch: int, epochs: int, workers: int, device: torch.device
              ) -> float:
    exp, model = fresh(spec, len(data.classes), device)
    dataset = ImageFiles(data.splits["train"], train_transform(exp.loaded.transform, "light"))
    step = step_fn(model, device)
    best = 0.0
    for epoch in range(epochs):
        loader = make_loader(dataset, batch, shuffle=True, seed=epoch, workers=workers,
                             pin_memory=device.type == "cuda")
        seen, start = 0, time.perf_counter()
        for item in loader:
            images = item.images.to(device, non_blocking=True).contiguous(
                memory_format=torch.channels_last)
            step(images, item.labels.to(device, non_blocking=True))
            seen += len(images)
        sync(device)
        best = max(best, seen / (time.perf_counter() - start))
    return best


class Peaks(TrainListener):
    def __init__(self, device: torch.device) -> None:
        self.device, self.peaks, self.rates, self.seconds = device, [], [], []

    def on_epoch_start(self, epoch) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def on_epoch_end(self, stats) -> None:
        self.rates.append(stats.images_per_s)
        self.seconds.append(stats.seconds)
        if self.device.type == "cuda":
            self.peaks.append(torch.cuda.max_memory_allocated(self.device) / 2**20)


def engine(spec: str, data, batch: int, epochs: int, workers: int, device: torch.device,
           cache_dir: str, head_only: bool = False) -> Peaks:
    ops = [{"op": "load", "model": spec, "weights": "none"},
           {"op": "replace_head", "num_classes": len(data.classes)}]
    if head_only:
        ops.append({"op": "preset", "name": "head-only"})
    exp = build(ops)
    config = TrainConfig(epochs=epochs, batch_size=batch, lr=1e-4, optimizer="adamw",
                         amp=True, channels_last=True, workers=workers, device=device.type,
                         cache="auto" if head_only else "off",
                         augment="auto" if head_only else "light",
                         image_cache=not head_only, image_cache_dir=cache_dir)
    peaks = Peaks(device)
    result = Trainer(exp.model, data, exp.loaded.transform, config, listeners=[peaks],
                     original=exp.original).fit()
    if result.error:
        raise SystemExit(f"engine failed: {result.error}")
    return peaks


def cache_fill(data, spec: str, device: torch.device, folder: Path) -> float:
    """Images/s of filling an empty decoded-image cache with the batched JPEG decoder on
    ``device`` (nvJPEG on CUDA), as ``--gpu-decode`` does before the first epoch."""
    tf = describe_eval_transform(fresh(spec, len(data.classes), torch.device("cpu"))[0]
                                 .loaded.transform)
    cache = DecodedCache(folder, ResizeSpec(tf.resize, tf.interpolation))
    report = fill_cache(cache, [p for p, _ in data.splits["train"]], device)
    return report.decoded / max(report.seconds, 1e-9)


@torch.no_grad()
def inference_pass(spec: str, data, batch: int, workers: int, device: torch.device) -> float:
    exp, model = fresh(spec, len(data.classes), device)
    model.eval()
    loader = make_loader(ImageFiles(data.splits["train"], exp.loaded.transform), batch,
                         shuffle=False, workers=workers, pin_memory=device.type == "cuda")
    start = time.perf_counter()
    for item in loader:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            model(item.images.to(device, non_blocking=True).contiguous(
                memory_format=torch.channels_last))
    sync(device)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--models", nargs="+", default=["default", "resnet50"])
    parser.add_argument("--allow-cpu", action="store_true", help="a tiny smoke run on the CPU")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("no CUDA device: nothing measured (use --allow-cpu for a smoke run)")
        return 1
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        print(torch.cuda.get_device_name(device))
    with tempfile.TemporaryDirectory() as scratch:
        data = index_folder(make_jpegs(Path(scratch) / "jpegs", args.images))
        for spec in args.models:
            top = ceiling(spec, data, args.batch_size, 30 if device.type == "cuda" else 2, device)
            hand = hand_loop(spec, data, args.batch_size, args.epochs, args.workers, device)
            run = engine(spec, data, args.batch_size, args.epochs, args.workers, device,
                         str(Path(scratch) / "decoded"))
            mine = max(run.rates[1:] or run.rates)  # after the cache's first epoch
            print(f"{spec}: ceiling {top:8.1f} img/s · hand loop {hand:8.1f} · engine "
                  f"{mine:8.1f} · engine/hand {mine / hand:.2f} · engine/ceiling {mine / top:.2f}")
            print(f"  engine images/s per epoch: {', '.join(f'{r:.1f}' for r in run.rates)}")
            if run.peaks:
                print(f"  peak GPU memory per epoch (MB): "
                      f"{', '.join(f'{p:,.0f}' for p in run.peaks)}")
            fill = cache_fill(data, spec, device, Path(scratch) / f"fill-{spec}")
            print(f"  first epoch of the cache: decoding workers {run.rates[0]:8.1f} img/s "
                  f"(training included) · batched JPEG decoding on {device.type} alone "
                  f"{fill:8.1f} img/s")
            head = engine(spec, data, args.batch_size, args.epochs, args.workers, device,
                          str(Path(scratch) / "decoded"), head_only=True)
            once = inference_pass(spec, data, args.batch_size, args.workers, device)
            print(f"  head only, cached features: first epoch {head.seconds[0]:.1f} s vs one inference "
                  f"pass {once:.1f} s; later epochs {', '.join(f'{r:,.0f}' for r in head.rates[1:])}"
                  " img/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
