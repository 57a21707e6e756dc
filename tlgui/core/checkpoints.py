"""Training checkpoints written atomically and read back with ``weights_only=True``."""

import os
import shutil
import tempfile
from pathlib import Path

import torch

from tlgui.core.errors import CheckpointError


def atomic_save(obj: object, path: Path) -> None:
    """``torch.save`` into a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        torch.save(obj, temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
        raise CheckpointError(f"no checkpoint to resume from at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot resume from {path}: {exc}") from exc
