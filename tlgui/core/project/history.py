"""Undo and redo for recipe operations on an experiment (Qt-free; the app binds Ctrl+Z).

Freezing operations record the trainable flags before the change; operations that change
the network's structure (head, branch) keep the previous model object itself.
"""

import copy
from dataclasses import dataclass, field

from torch import nn

from tlgui.core.model.recipe import Experiment, apply

STRUCTURAL = ("replace_head", "branch")


@dataclass
class _Step:
    op: dict
    before_model: nn.Module | None  # structural ops: the model before
    before_flags: dict[str, bool]   # other ops: requires_grad before
    after_model: nn.Module | None = None
    after_flags: dict[str, bool] = field(default_factory=dict)


def _flags(model: nn.Module) -> dict[str, bool]:
    return {n: p.requires_grad for n, p in model.named_parameters()}


def _set_flags(model: nn.Module, flags: dict[str, bool]) -> None:
    for name, param in model.named_parameters():
        param.requires_grad_(flags.get(name, param.requires_grad))


class UndoHistory:
    """``do(op)`` applies and records; ``undo()``/``redo()`` step through the records."""

    def __init__(self, experiment: Experiment, limit: int = 100) -> None:
        self.experiment = experiment
        self.limit = limit
        self._done: list[_Step] = []
        self._undone: list[_Step] = []

    def do(self, op: dict) -> None:
        exp = self.experiment
        structural = op["op"] in STRUCTURAL
        before = (copy.deepcopy(exp.model) if op["op"] == "replace_head" else exp.model) \
            if structural else None
        step = _Step(op=dict(op), before_model=before, before_flags=_flags(exp.model))
        apply(exp, op)  # raises before anything is recorded when the op fails
        step.after_model = exp.model if structural else None
        step.after_flags = _flags(exp.model)
        self._done.append(step)
        del self._done[:-self.limit]
        self._undone.clear()

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        return describe(self._done[-1].op) if self._done else ""

    def redo_text(self) -> str:
        return describe(self._undone[-1].op) if self._undone else ""

    def undo(self) -> dict | None:
        if not self._done:
            return None
        step = self._done.pop()
        exp = self.experiment
        if step.before_model is not None:
            step.after_model = exp.model
            exp.model = step.before_model
        _set_flags(exp.model, step.before_flags)
        exp.ops.pop()
        self._undone.append(step)
        return step.op

    def redo(self) -> dict | None:
        if not self._undone:
            return None
        step = self._undone.pop()
        exp = self.experiment
        if step.after_model is not None:
            exp.model = step.after_model
        _set_flags(exp.model, step.after_flags)
        exp.ops.append(dict(step.op))
        self._done.append(step)
        return step.op


def describe(op: dict) -> str:
    """A short label for menus: "freeze layer1, layer2", "branch x → relu_3"."""
    kind = op["op"]
    if kind in ("freeze", "unfreeze"):
        return f"{kind} {', '.join(str(s) for s in op['selectors'])}"
    if kind == "branch":
        return f"branch {op['fork']} → {op['join']} ({op.get('init', 'copy')}, " \
               f"{op.get('merge', 'concat')})"
    if kind == "replace_head":
        return f"new head for {op['num_classes']} classes"
    if kind == "preset":
        return f"preset {op['name']}"
    return f"{kind.replace('_', ' ')} {op.get('layer', '')}".strip()
