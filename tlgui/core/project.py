"""An experiment as one file: the recipe, training settings, history and weights.

A ``.tlgui`` project is a zip holding ``project.json`` and ``weights.safetensors``. It is
written to a temporary file and renamed into place, so a crash never leaves half a project.
"""

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from tlgui import __version__
from tlgui.core.errors import TlguiError
from tlgui.core.recipe import Experiment, build
from tlgui.core.train_events import TrainConfig
from tlgui.core.weights import tensor_sha256

FORMAT = 1


class ProjectError(TlguiError):
    """A project file that cannot be read or written."""


@dataclass
class Project:
    experiment: Experiment
    config: TrainConfig = field(default_factory=TrainConfig)
    history: list[dict] = field(default_factory=list)
    data_folder: str = ""


def save_project(path: str | Path, project: Project) -> Path:
    path = Path(path)
    model = project.experiment.model
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    doc = {
        "format": FORMAT,
        "app_version": __version__,
        "recipe": project.experiment.ops,
        "trainable": [n for n, p in model.named_parameters() if p.requires_grad],
        "config": project.config.as_dict(),
        "history": project.history,
        "data_folder": project.data_folder,
        "hashes": {k: tensor_sha256(v) for k, v in weights.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("project.json", json.dumps(doc, indent=1))
            archive.writestr("weights.safetensors", save_safetensors(weights))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def load_project(path: str | Path, *, trust_code: bool = False) -> Project:
    """Rebuild the model from the recipe, then restore weights and freezing exactly."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            doc = json.loads(archive.read("project.json"))
            weights = load_safetensors(archive.read("weights.safetensors"))
    except FileNotFoundError as exc:
        raise ProjectError(f"project not found: {path}") from exc
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as exc:
        raise ProjectError(f"{path} is not a tlgui project (or it is damaged): {exc}") from exc
    version = doc.get("format")
    if not isinstance(version, int) or version > FORMAT:
        raise ProjectError(
            f"{path} was written by a newer tlgui (project format {version}, app "
            f"{doc.get('app_version', '?')}); this is tlgui {__version__}, which reads format "
            f"{FORMAT}. Update tlgui to open it.")
    experiment = build(doc["recipe"], trust_code=trust_code)
    model = experiment.model
    missing = set(model.state_dict()) ^ set(weights)
    if missing:
        raise ProjectError(f"{path}: the recipe no longer builds the saved network (tensors "
                           f"differ: {', '.join(sorted(missing)[:5])})")
    with torch.no_grad():
        for name, tensor in model.state_dict(keep_vars=True).items():
            tensor.copy_(weights[name])
    trainable = set(doc["trainable"])
    for name, param in model.named_parameters():
        param.requires_grad_(name in trainable)
    for name, tensor in model.state_dict().items():
        if tensor_sha256(tensor) != doc["hashes"][name]:
            raise ProjectError(f"{path}: tensor {name} does not match its saved SHA-256")
    return Project(experiment=experiment, config=TrainConfig.from_dict(doc["config"]),
                   history=doc.get("history", []), data_folder=doc.get("data_folder", ""))
