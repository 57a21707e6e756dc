"""An experiment as one file: the recipe, training settings, history and weights.

A ``.tlgui`` project is a zip holding ``project.json`` and ``weights.safetensors``. It is
written to a temporary file and renamed into place, so a crash never leaves half a project.
"""

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from tlgui import __version__
from tlgui.core.config import TrainConfig
from tlgui.core.data.corrections import Corrections
from tlgui.core.errors import TlguiError
from tlgui.core.files import write_atomically
from tlgui.core.model.recipe import Experiment, build
from tlgui.core.model.snapshots import tensor_sha256

FORMAT = 1
MAX_MEMBER_BYTES = 8 * 2**30  # the largest weights we expect, uncompressed
MAX_RATIO = 200  # deflate rarely exceeds this on JSON; a zip bomb does


class ProjectError(TlguiError):
    """A project file that cannot be read or written."""


@dataclass
class Project:
    experiment: Experiment
    config: TrainConfig = field(default_factory=TrainConfig)
    history: list[dict] = field(default_factory=list)
    data_folder: str = ""
    classes: list[str] = field(default_factory=list)  # the names of the model's outputs
    corrections: Corrections = field(default_factory=Corrections)  # relabels, exclusions


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
        "classes": project.classes,
        "corrections": project.corrections.as_dict(),
        "hashes": {k: tensor_sha256(v) for k, v in weights.items()},
    }

    def write(temp: str) -> None:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("project.json", json.dumps(doc, indent=1))
            archive.writestr("weights.safetensors", save_safetensors(weights))

    return write_atomically(path, write, ProjectError)


def _read_member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """A member's bytes, refusing sizes that only a zip bomb declares."""
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES or (
            info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
        raise ProjectError(f"{path} is not a tlgui project: its {name} would unpack to "
                           f"{info.file_size:,} bytes from {info.compress_size:,} (a zip bomb?)")
    return archive.read(name)


def load_project(path: str | Path, *, trust_code: bool = False) -> Project:
    """Rebuild the model from the recipe, then restore weights and freezing exactly."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            unsafe = [n for n in archive.namelist() if n.startswith(("/", "\\")) or ".." in
                      Path(n.replace("\\", "/")).parts]
            if unsafe:
                raise ProjectError(f"{path} is not a tlgui project: it holds a file named "
                                   f"'{unsafe[0]}', which points outside the project")
            doc = json.loads(_read_member(archive, "project.json", path))
            weights = load_safetensors(_read_member(archive, "weights.safetensors", path))
    except FileNotFoundError as exc:
        raise ProjectError(f"project not found: {path}") from exc
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, SafetensorError) as exc:
        raise ProjectError(f"{path} is not a tlgui project, or it is damaged") from exc
    if not isinstance(doc, dict):
        raise ProjectError(f"{path} is not a tlgui project, or it is damaged")
    version = doc.get("format")
    if not isinstance(version, int) or version > FORMAT:
        raise ProjectError(
            f"{path} was written by a newer tlgui (project format {version}, app "
            f"{doc.get('app_version', '?')}); this is tlgui {__version__}, which reads format "
            f"{FORMAT}. Update tlgui to open it.")
    recipe = doc.get("recipe")
    if isinstance(recipe, list) and recipe and isinstance(recipe[0], dict):
        # a file cannot grant itself the right to run code: only the caller can
        recipe = [{k: v for k, v in recipe[0].items() if k != "trust_code"}, *recipe[1:]]
    experiment = build(recipe, trust_code=trust_code)
    model = experiment.model
    missing = set(model.state_dict()) ^ set(weights)
    if missing:
        raise ProjectError(f"{path}: the recipe no longer builds the saved network (tensors "
                           f"differ: {', '.join(sorted(missing)[:5])})")
    with torch.no_grad():
        for name, tensor in model.state_dict(keep_vars=True).items():
            if tensor.shape != weights[name].shape:
                raise ProjectError(f"{path}: tensor {name} has shape {list(weights[name].shape)}"
                                   f" in the file but {list(tensor.shape)} in the rebuilt model")
            tensor.copy_(weights[name])
    trainable = set(doc.get("trainable", []))
    for name, param in model.named_parameters():
        param.requires_grad_(name in trainable)
    for name, tensor in model.state_dict().items():
        if tensor_sha256(tensor) != doc.get("hashes", {}).get(name):
            raise ProjectError(f"{path}: tensor {name} does not match its saved SHA-256; the "
                               "file was changed after tlgui saved it")
    try:
        config = TrainConfig.from_dict(doc.get("config", {}))
    except (TypeError, ValueError) as exc:
        raise ProjectError(f"{path}: its training settings are damaged") from exc
    return Project(experiment=experiment, config=config,
                   history=doc.get("history", []), data_folder=doc.get("data_folder", ""),
                   classes=list(doc.get("classes", [])),
                   corrections=Corrections.from_dict(doc.get("corrections")))
