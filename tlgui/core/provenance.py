"""Where each tensor of a working model came from: the pretrained original, a copy, or fresh.

The record lives on the model itself (a plain dict in ``model.__dict__``), keyed by the
tensor's qualified name, so it follows the model through ``copy.deepcopy``.
"""

from dataclasses import dataclass
from typing import Literal

from torch import nn

Kind = Literal["pretrained", "copied", "fresh"]
_ATTR = "_tlgui_provenance"


@dataclass(frozen=True)
class Origin:
    """``kind`` says how the tensor got its values; ``source`` names where they came from."""

    kind: Kind
    source: str = ""

    def describe(self) -> str:
        return f"{self.kind} ({self.source})" if self.source else self.kind


def tensor_names(model: nn.Module) -> list[str]:
    """Qualified names of every parameter and buffer, in state-dict order."""
    return list(model.state_dict(keep_vars=True).keys())


def provenance(model: nn.Module) -> dict[str, Origin]:
    """Provenance of every tensor; tensors with no record count as fresh."""
    record: dict[str, Origin] = model.__dict__.get(_ATTR, {})
    return {name: record.get(name, Origin("fresh")) for name in tensor_names(model)}


def set_origins(model: nn.Module, origins: dict[str, Origin], *, replace: bool = False) -> None:
    """Record origins for the named tensors (all other records kept unless ``replace``)."""
    record = {} if replace else dict(model.__dict__.get(_ATTR, {}))
    record.update(origins)
    model.__dict__[_ATTR] = record


def mark_fresh(model: nn.Module, prefix: str) -> None:
    """Mark every tensor under the module ``prefix`` as freshly initialised."""
    dotted = prefix + "."
    set_origins(
        model,
        {n: Origin("fresh") for n in tensor_names(model) if n.startswith(dotted) or n == prefix},
    )
