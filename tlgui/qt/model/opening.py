"""Opening things in the app: the recipe a model starts from, and what is dropped on the
window."""

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from tlgui.core.data.data_index import index_folder
from tlgui.core.data.demo import DEMO_DATA
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import Experiment, build
from tlgui.core.model.sources import WEIGHT_FILE_SUFFIXES
from tlgui.core.model.tree import LayerTree
from tlgui.core.model.weight_files import load_weights_file


def open_experiment(spec: str, weights: str = "default", trust_code: bool = False, seed: int = 0,
           input_size: tuple[int, int, int] | None = None) -> tuple[Experiment, LayerTree]:
    """The offline default opens ready to train: head for the demo classes, body frozen.
    ``seed`` initialises every new head or branch of this model (the recipe's seed)."""
    ops: list[dict] = [{"op": "load", "model": spec, "weights": weights, "seed": seed}]
    if input_size:
        ops[0]["input_size"] = list(input_size)
    if trust_code:
        ops[0]["trust_code"] = True
    if spec == "default" and weights == "default" and DEMO_DATA.is_dir():
        ops += [{"op": "replace_head", "num_classes": len(index_folder(DEMO_DATA).classes)},
                {"op": "preset", "name": "head-only"}]
    experiment = build(ops)
    return experiment, LayerTree(experiment.model, experiment.loaded.input_size)


def open_dropped(window, path: str) -> None:
    """A project opens as a project, a folder in the Dataset panel, a weights file into the
    open model; anything else gets a line in the status bar."""
    target = Path(path)
    if target.suffix == ".tlgui":
        window.projects.open(target)
    elif target.is_dir():
        window.dataset.open_folder(str(target))
        window.docks["Dataset"].raise_()
    elif target.suffix in WEIGHT_FILE_SUFFIXES and window.experiment is not None:
        try:
            report = load_weights_file(window.experiment.model, target)
        except TlguiError as exc:
            QMessageBox.warning(window, "Could not load the weights", str(exc))
            return
        window.training.say(f"{target.name}: {report.summary()}")
        window.statusBar().showMessage(f"{target.name}: {report.summary().splitlines()[0]}")
    else:
        window.statusBar().showMessage(f"cannot open {path}: not a project, folder or "
                                       "weights file", 8000)
