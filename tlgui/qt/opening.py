"""Opening a model in the app: the recipe the window starts from."""

from tlgui.core.data.data_index import index_folder
from tlgui.core.model.tree import LayerTree
from tlgui.core.project.recipe import Experiment, build
from tlgui.qt.training_form import DEMO_DATA


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
