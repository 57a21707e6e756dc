"""An experiment's model as a recipe: a list of plain-data operations replayed in order.

``{"op": "load", "model": "default", "weights": "default"}`` first, then any of
``replace_head``, ``branch``, ``freeze``, ``unfreeze``, ``preset``, ``freeze_up_to`` and
``unfreeze_from``. The same list rebuilds the model in the app, on the command line, and
in a saved project.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from tlgui.core.branch import add_parallel_branch
from tlgui.core.errors import TlguiError
from tlgui.core.freeze import (
    freeze,
    freeze_all_but_head,
    freeze_up_to,
    unfreeze,
    unfreeze_all,
    unfreeze_from,
)
from tlgui.core.heads import replace_head
from tlgui.core.zoo import LoadedModel, load_model

PRESETS = ("head-only", "all")


@dataclass
class Experiment:
    """The loaded original (never trained) and the working model built from it."""

    loaded: LoadedModel
    model: nn.Module
    ops: list[dict] = field(default_factory=list)

    @property
    def original(self) -> nn.Module:
        return self.loaded.model


def _replace_head(exp: Experiment, op: dict) -> None:
    replace_head(exp.model, int(op["num_classes"]))


def _branch(exp: Experiment, op: dict) -> None:
    exp.model = add_parallel_branch(
        exp.model, op["fork"], op["join"], init=op.get("init", "copy"),
        merge=op.get("merge", "concat"), num_classes=op.get("num_classes"),
        input_size=exp.loaded.input_size)


def _freeze(exp: Experiment, op: dict) -> None:
    freeze(exp.model, op["selectors"], train_bn=op.get("train_bn", False))


def _unfreeze(exp: Experiment, op: dict) -> None:
    unfreeze(exp.model, op["selectors"])


def _preset(exp: Experiment, op: dict) -> None:
    if op["name"] == "head-only":
        freeze_all_but_head(exp.model, train_bn=op.get("train_bn", False))
    elif op["name"] == "all":
        unfreeze_all(exp.model)
    else:
        raise TlguiError(f"unknown preset '{op['name']}'; choose {', '.join(PRESETS)}")


def _freeze_up_to(exp: Experiment, op: dict) -> None:
    freeze_up_to(exp.model, op["layer"], train_bn=op.get("train_bn", False))


def _unfreeze_from(exp: Experiment, op: dict) -> None:
    unfreeze_from(exp.model, op["layer"])


OPERATIONS: dict[str, Callable[[Experiment, dict], None]] = {
    "replace_head": _replace_head,
    "branch": _branch,
    "freeze": _freeze,
    "unfreeze": _unfreeze,
    "preset": _preset,
    "freeze_up_to": _freeze_up_to,
    "unfreeze_from": _unfreeze_from,
}


def apply(exp: Experiment, op: dict) -> None:
    """Apply one operation to the working model and record it."""
    if op.get("op") not in OPERATIONS:
        raise TlguiError(f"unknown recipe operation {op.get('op')!r}; known: "
                         f"{', '.join(OPERATIONS)}")
    OPERATIONS[op["op"]](exp, op)
    exp.ops.append(dict(op))


def build(ops: list[dict], *, trust_code: bool = False) -> Experiment:
    """Replay a recipe: the first operation must be ``load``."""
    if not ops or ops[0].get("op") != "load":
        raise TlguiError("a recipe starts with a 'load' operation naming the model")
    first = ops[0]
    loaded = load_model(first["model"], first.get("weights", "default"),
                        trust_code=trust_code or first.get("trust_code", False))
    exp = Experiment(loaded=loaded, model=copy.deepcopy(loaded.model), ops=[dict(first)])
    for op in ops[1:]:
        apply(exp, op)
    return exp
