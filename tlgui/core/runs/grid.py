"""Comparing networks and freezing strategies: a grid of (model, strategy) cells trained with
the same settings, each an ordinary run folder, with one row of results per cell.

Strategies: ``shallow`` (the new head only), ``partial:K`` (the last K blocks and the head;
pretrained rates x0.1), ``deep`` (every layer from the pretrained weights, discriminative
rates), ``scratch`` (the same architecture, random initialisation, every layer trained).
"""

import csv
import io
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from tlgui.core.config import TrainConfig, check_config
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import TlguiError, ValidationError, user_message
from tlgui.core.files import write_text_atomically
from tlgui.core.model.recipe import build
from tlgui.core.runs.record import write_json
from tlgui.core.runs.service import train_run
from tlgui.core.train.train_events import StopToken, TrainListener

COLUMNS = ("model", "strategy", "params", "trainable_params", "train_seconds",
           "seconds_per_epoch", "inference_ms_batch1", "inference_ms_batch32",
           "best_val_accuracy", "best_epoch", "integrity_passed", "error")
BASIC_STRATEGIES = ("shallow", "deep", "scratch")


def check_strategy(strategy: str) -> None:
    kind, _, k = strategy.partition(":")
    if strategy in BASIC_STRATEGIES or (kind == "partial" and k.isdigit() and int(k) >= 1):
        return
    raise ValidationError(f"a strategy is shallow, partial:K (K at least 1), deep or scratch, "
                          f"not '{strategy}'", "strategies")


def cell_recipe(model: str, strategy: str, num_classes: int, seed: int) -> list[dict]:
    """The recipe of one cell: the model, a new head, and the strategy's freezing."""
    check_strategy(strategy)
    weights = "none" if strategy == "scratch" else "default"
    ops: list[dict] = [{"op": "load", "model": model, "weights": weights, "seed": seed},
                       {"op": "replace_head", "num_classes": num_classes}]
    if strategy == "shallow" or strategy.startswith("partial:"):
        ops.append({"op": "preset", "name": "head-only"})
    if strategy.startswith("partial:"):
        ops.append({"op": "unfreeze_last_blocks", "count": int(strategy.split(":")[1])})
    return ops


def cell_name(model: str, strategy: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{model}__{strategy}")


@torch.no_grad()
def inference_ms(model: torch.nn.Module, input_size: tuple[int, ...], batch: int,
                 device: torch.device, repeats: int = 5) -> float:
    """Median milliseconds per image of ``model`` on random inputs (after a warm-up)."""
    model.eval().to(device)
    images = torch.rand(batch, *input_size, device=device)
    times = []
    for i in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        model(images)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:  # the first pass warms up
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000 / batch


@dataclass
class Grid:
    models: list[str]
    strategies: list[str]
    config: TrainConfig  # shared settings; each cell writes its own checkpoints
    out: Path
    rows: list[dict] = field(default_factory=list)

    def cells(self) -> list[tuple[str, str]]:
        return [(m, s) for m in self.models for s in self.strategies]

    def done(self) -> set[tuple[str, str]]:
        return {(r["model"], r["strategy"]) for r in self.rows}

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        write_json(self.out / "results.json", self.rows)
        handle = io.StringIO(newline="")
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({k: row.get(k) for k in COLUMNS} for row in self.rows)
        write_text_atomically(self.out / "results.csv", handle.getvalue())


def load_rows(out: Path) -> list[dict]:
    path = out / "results.json"
    if not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text())
    except ValueError as exc:
        raise TlguiError(f"{path} is damaged; remove it to start the comparison again") from exc
    return [r for r in rows if isinstance(r, dict) and "model" in r and "strategy" in r]


def run_grid(grid: Grid, data: DataIndex, *, stop: StopToken | None = None,
             listeners: list[TrainListener] | tuple = (),
             on_cell: Callable[[int, int, str, str], None] | None = None,
             on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """Train every cell not done yet, in order; a failing cell is recorded with its reason and
    the next one runs. Stopping ends after the cell in progress stops (it resumes later)."""
    check_config(grid.config)
    for strategy in grid.strategies:
        check_strategy(strategy)
    stop = stop or StopToken()
    cells = grid.cells()
    cache_dir = str(grid.out / "feature-cache")  # cells with the same frozen part share it
    for number, (model, strategy) in enumerate(cells):
        if (model, strategy) in grid.done():
            continue
        if stop.stopped:
            break
        if on_cell is not None:
            on_cell(number, len(cells), model, strategy)
        row = run_cell(model, strategy, grid, data, cache_dir, stop, listeners)
        if row is None:  # stopped mid-cell: not a result, redone (resumed) next time
            break
        grid.rows.append(row)
        grid.save()
        if on_row is not None:
            on_row(row)
    return grid.rows


def run_cell(model: str, strategy: str, grid: Grid, data: DataIndex, cache_dir: str,
             stop: StopToken, listeners) -> dict | None:
    row: dict = dict.fromkeys(COLUMNS)
    row.update(model=model, strategy=strategy)
    folder = grid.out / cell_name(model, strategy)
    config = replace(grid.config, cache_dir=cache_dir,
                     pretrained_lr_mult=1.0 if strategy == "scratch" else
                     grid.config.pretrained_lr_mult)
    try:
        experiment = build(cell_recipe(model, strategy, len(data.classes), config.seed))
        net = experiment.model
        row["params"] = sum(p.numel() for p in net.parameters())
        row["trainable_params"] = sum(p.numel() for p in net.parameters() if p.requires_grad)
        resume = folder if (folder / "checkpoints" / "last.pt").is_file() else None
        trainer = train_run(folder, experiment, data, config, listeners=list(listeners),
                            stop=stop, resume=resume)
        result = trainer.result
        if result.stopped:
            return None
        seconds = [h.seconds for h in result.history]
        row.update(train_seconds=round(sum(seconds), 3),
                   seconds_per_epoch=[round(s, 3) for s in seconds], error=result.error)
        best = result.best_epoch
        if best is not None:
            row.update(best_epoch=best + 1,
                       best_val_accuracy=result.history[best].val_accuracy)
        row["integrity_passed"] = trainer.integrity.passed if trainer.integrity else None
        if not result.error:
            size = experiment.loaded.input_size
            row["inference_ms_batch1"] = round(inference_ms(net, size, 1, trainer.device), 3)
            row["inference_ms_batch32"] = round(inference_ms(net, size, 32, trainer.device,
                                                             repeats=3), 3)
    except Exception as exc:  # a failing cell is recorded; the grid goes on
        row["error"] = user_message(exc)
    return row


def format_row(row: dict) -> str:
    def number(key: str, spec: str) -> str:
        value = row.get(key)
        return format(value, spec) if isinstance(value, (int, float)) else "-"

    text = (f"{row['model']:<22} {row['strategy']:<10} {number('trainable_params', ',d'):>12} "
            f"{number('train_seconds', '.1f'):>9} {number('inference_ms_batch1', '.1f'):>8} "
            f"{number('inference_ms_batch32', '.1f'):>8} {number('best_val_accuracy', '.3f'):>7} "
            f"{number('best_epoch', 'd'):>5}  "
            + ("PASS" if row.get("integrity_passed") else "-" if row.get("error") else "FAIL"))
    return text + (f"  error: {row['error']}" if row.get("error") else "")


TABLE_HEADER = (f"{'model':<22} {'strategy':<10} {'trainable':>12} {'train s':>9} {'ms b1':>8} "
                f"{'ms b32':>8} {'val acc':>7} {'best':>5}  integrity")
