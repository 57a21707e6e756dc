"""An experiment's model as a recipe: a list of plain-data operations replayed in order.

``{"op": "load", "model": "default", "weights": "default"}`` first, then any of
``replace_head``, ``branch``, ``freeze``, ``unfreeze``, ``preset``, ``freeze_up_to`` and
``unfreeze_from``. The same list rebuilds the model in the app, on the command line, and
in a saved project.

Operations that initialise tensors (a new head, a fresh branch) draw from a generator seeded
with the recipe's seed (``load``'s ``seed``, 0 when absent) and the step's position, so the
same recipe gives bit-identical weights wherever and whenever it is replayed.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from tlgui.core.config import PRESETS
from tlgui.core.errors import TlguiError
from tlgui.core.model.branch import add_parallel_branch
from tlgui.core.model.freeze import (
    freeze,
    freeze_all_but_head,
    freeze_up_to,
    unfreeze,
    unfreeze_all,
    unfreeze_from,
    unfreeze_last_blocks,
)
from tlgui.core.model.heads import replace_head
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.model.sources import load_model
from tlgui.core.validate import check_operation, check_recipe


@dataclass
class Experiment:
    """The loaded original (never trained) and the working model built from it."""

    loaded: LoadedModel
    model: nn.Module
    ops: list[dict] = field(default_factory=list)

    @property
    def original(self) -> nn.Module:
        return self.loaded.model

    @property
    def seed(self) -> int:
        return int(self.ops[0].get("seed", 0)) if self.ops else 0


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


def _unfreeze_last_blocks(exp: Experiment, op: dict) -> None:
    unfreeze_last_blocks(exp.model, int(op["count"]))


OPERATIONS: dict[str, Callable[[Experiment, dict], None]] = {
    "unfreeze_last_blocks": _unfreeze_last_blocks,
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
    check_operation(op, len(exp.ops) + 1)
    if op["op"] not in OPERATIONS:
        raise TlguiError(f"recipe step {len(exp.ops) + 1}: 'load' can only come first")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(step_seed(exp.seed, len(exp.ops)))
        OPERATIONS[op["op"]](exp, op)
    exp.ops.append(dict(op))


def step_seed(seed: int, position: int) -> int:
    """The seed of recipe step ``position``: distinct per step, fixed by the recipe's seed."""
    return (seed * 1_000_003 + position) % (2**63 - 1)


def build(ops: list[dict], *, trust_code: bool = False) -> Experiment:
    """Replay a recipe: the first operation must be ``load``."""
    check_recipe(ops)
    first = ops[0]
    size = first.get("input_size")
    with torch.random.fork_rng(devices=[]):  # random initialisation follows the seed too
        torch.manual_seed(step_seed(int(first.get("seed", 0)), 0))
        loaded = load_model(first["model"], first.get("weights", "default"),
                            trust_code=trust_code or first.get("trust_code", False),
                            input_size=tuple(size) if size else None)
    exp = Experiment(loaded=loaded, model=copy.deepcopy(loaded.model), ops=[dict(first)])
    for op in ops[1:]:
        apply(exp, op)
    return exp
