"""A trained model read back from a run folder (``tlgui train --out RUN``) or a ``.tlgui``
project: the network with its trained weights, its class names and its eval transform."""

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file

from tlgui.core.data.data_index import DataIndex, index_folder
from tlgui.core.errors import TlguiError
from tlgui.core.model.heads import classifier_width
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.model.recipe import Experiment, build
from tlgui.core.runs.record import SPLIT_FILE, read_split
from tlgui.core.train import checkpoints

CHECKPOINTS = ("best", "last")


class TrainedModelError(TlguiError):
    """A run folder or project that cannot give a trained model."""


@dataclass
class Trained:
    """``loaded.model`` holds the trained weights; ``loaded.class_names`` the run's classes."""

    loaded: LoadedModel
    experiment: Experiment
    source: Path
    checkpoint: str  # best | last | project
    data_folder: str
    config: dict

    @property
    def classes(self) -> list[str]:
        return self.loaded.class_names

    def data_index(self, folder: str | None = None) -> DataIndex:
        """The data to evaluate on: the run's recorded split, exactly (never re-derived), or
        ``folder`` indexed as it is now when another folder is named."""
        same = folder is None or Path(folder).resolve() == Path(self.data_folder).resolve()
        if same and (self.source / SPLIT_FILE).is_file():
            return read_split(self.source)
        chosen = self.data_folder if folder is None else folder
        if not chosen:
            raise TrainedModelError(f"{self.source} does not say which data it was trained "
                                    "on; give --data DIR")
        return index_folder(chosen, seed=int(self.config.get("seed", 0)))


def is_trained_source(text: str) -> bool:
    """A run folder (it has run.json) or a project file."""
    path = Path(text)
    return (path.is_dir() and (path / "run.json").is_file()) or path.suffix == ".tlgui"


def load_trained(source: str | Path, *, checkpoint: str = "best",
                 trust_code: bool = False) -> Trained:
    """The trained model of a run folder (its best or last weights) or of a project."""
    path = Path(source)
    if checkpoint not in CHECKPOINTS:
        raise TrainedModelError(f"the checkpoint must be best or last, not '{checkpoint}'")
    if path.suffix == ".tlgui":
        return _from_project(path, trust_code)
    if not (path / "run.json").is_file():
        raise TrainedModelError(f"{path} is neither a run folder (with run.json, written by "
                                "tlgui train --out) nor a .tlgui project")
    try:
        run = json.loads((path / "run.json").read_text())
        recipe, classes = run["recipe"], list(run["classes"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainedModelError(f"{path / 'run.json'} is damaged") from exc
    recipe = [{k: v for k, v in recipe[0].items() if k != "trust_code"}, *recipe[1:]] \
        if isinstance(recipe, list) and recipe and isinstance(recipe[0], dict) else recipe
    experiment = build(recipe, trust_code=trust_code)
    state, used = _run_weights(path, checkpoint)
    try:
        experiment.model.load_state_dict(state)
    except RuntimeError as exc:
        raise TrainedModelError(f"the weights in {path} do not fit the network its recipe "
                                "builds") from exc
    return _trained(experiment, classes, path, used, run.get("data", ""), run.get("config", {}))


def _run_weights(path: Path, checkpoint: str) -> tuple[dict[str, torch.Tensor], str]:
    best = path / "checkpoints" / "best.pt"
    if checkpoint == "best" and best.is_file():
        return checkpoints.load(best)["model"], "best"
    final = path / "model.safetensors"
    if final.is_file():
        return load_file(str(final)), "last"
    if (path / "checkpoints" / "last.pt").is_file():
        return checkpoints.load(path / "checkpoints")["model"], "last"
    raise TrainedModelError(f"{path} holds no trained weights (no checkpoints/best.pt, "
                            "model.safetensors or checkpoints/last.pt)")


def _from_project(path: Path, trust_code: bool) -> Trained:
    from tlgui.core.project.project import load_project

    project = load_project(path, trust_code=trust_code)
    width = classifier_width(project.experiment.model) or 0
    classes = project.classes
    if not classes and project.data_folder and Path(project.data_folder).is_dir():
        try:
            classes = index_folder(project.data_folder).classes
        except TlguiError:
            classes = []
    if len(classes) != width:
        classes = [f"class_{i}" for i in range(width)]
    return _trained(project.experiment, classes, path, "project", project.data_folder,
                    project.config.as_dict())


def _trained(experiment: Experiment, classes: list[str], source: Path, checkpoint: str,
             data_folder: str, config: dict) -> Trained:
    base = experiment.loaded
    loaded = LoadedModel(model=experiment.model.eval(), transform=base.transform,
                         class_names=classes, input_size=base.input_size,
                         spec=f"{source} ({checkpoint})", weights=checkpoint)
    return Trained(loaded, experiment, source, checkpoint, data_folder, config)
