"""Where each tensor of a working model came from: the pretrained original, a copy, or fresh.

The record lives on the model itself (a plain dict in ``model.__dict__``), keyed by the
tensor's qualified name, so it follows the model through ``copy.deepcopy``.
"""

from dataclasses import dataclass
from typing import Literal

from torch import fx, nn

Kind = Literal["pretrained", "main", "copied", "fresh"]
_ATTR = "_tlgui_provenance"


@dataclass(frozen=True)
class Origin:
    """``kind`` says how the tensor got its values; ``source`` names where they came from."""

    kind: Kind
    source: str = ""

    def describe(self) -> str:
        return f"{self.kind} ({self.source})" if self.source else self.kind


# fx.GraphModule's deepcopy rebuilds the module and keeps only attributes listed here.
_PRESERVED = getattr(fx.graph_module, "_USER_PRESERVED_ATTRIBUTES_KEY", "user_preserved_attributes")


def store_annotation(model: nn.Module, key: str, value: object) -> None:
    """Keep a plain-data annotation on a model so that ``copy.deepcopy`` keeps it too."""
    model.__dict__[key] = value
    if isinstance(model, fx.GraphModule):
        model.meta.setdefault(_PRESERVED, {})[key] = value


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
    store_annotation(model, _ATTR, record)


def mark_fresh(model: nn.Module, prefix: str) -> None:
    """Mark every tensor under the module ``prefix`` as freshly initialised."""
    dotted = prefix + "."
    set_origins(
        model,
        {n: Origin("fresh") for n in tensor_names(model) if n.startswith(dotted) or n == prefix},
    )
