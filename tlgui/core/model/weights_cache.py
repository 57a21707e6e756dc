"""Pretrained torchvision weights: from the torch hub cache first, else a download.

Offline, the error says what was tried, where the file belongs and how to pass one.
"""

import os
import urllib.error
from pathlib import Path

import torch

from tlgui.core.errors import WeightsUnavailableError


def hub_checkpoint_path(url: str) -> Path:
    """Where torch hub keeps (or would keep) the file downloaded from ``url``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def fetch_torchvision_state_dict(weights_enum, spec: str, *, progress: bool = True) -> dict:
    """The state dict of a torchvision weights enum member, cached or downloaded."""
    path = hub_checkpoint_path(weights_enum.url)
    if not path.is_file():
        try:
            _download(weights_enum.url, path, progress)
        except (urllib.error.URLError, OSError, TimeoutError, RuntimeError) as exc:
            raise WeightsUnavailableError(
                f"the {spec} weights {weights_enum.name} are not in the torch hub cache "
                f"({path}) and downloading {weights_enum.url} failed ({exc}). Copy the file "
                f"to {path}, or pass a local weights file: --weights path/to/{path.name}"
            ) from exc
    from tlgui.core.model.weight_files import read_state_dict

    return read_state_dict(path)


def _download(url: str, dst: Path, progress: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    match = torch.hub.HASH_REGEX.search(dst.name)
    torch.hub.download_url_to_file(
        url, str(dst), hash_prefix=match.group(1) if match else None, progress=progress
    )
