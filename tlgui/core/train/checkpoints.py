"""Training checkpoints written atomically and read back with ``weights_only=True``."""

import os
import shutil
from pathlib import Path

import torch

from tlgui.core.errors import CheckpointError
from tlgui.core.files import write_atomically


def atomic_save(obj: object, path: Path) -> None:
    """``torch.save`` into a temporary file beside ``path``, then rename it into place."""
    write_atomically(path, lambda temp: torch.save(obj, temp), CheckpointError)


def save(directory: str | Path, state: dict, *, best: bool) -> Path:
    """Write ``last.pt`` (and ``best.pt`` when ``best``); returns the last path."""
    last = Path(directory) / "last.pt"
    atomic_save(state, last)
    if best:
        temp = last.with_name("best.pt.tmp")
        shutil.copyfile(last, temp)
        os.replace(temp, last.with_name("best.pt"))
    return last


def load(directory_or_file: str | Path) -> dict:
    """A checkpoint from a run folder (its ``last.pt``) or a file."""
    path = Path(directory_or_file)
    if path.is_dir():
        path = path / "last.pt"
    if not path.is_file():
        raise CheckpointError(f"there is no checkpoint to resume from at {path}; resume takes "
                              "the output folder of an earlier run (it holds checkpoints/last.pt)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged files fail in many ways
        raise CheckpointError(f"cannot resume from {path}: the file is damaged or not a "
                              "tlgui checkpoint") from exc
    if not isinstance(state, dict) or not {"model", "epoch", "history"} <= set(state):
        raise CheckpointError(f"cannot resume from {path}: it is not a tlgui training checkpoint")
    return state
