"""The layer tree: one node per module, keyed by qualified name.

Static facts (type, parameter counts, output shape from one dry run) are computed once;
the trainable state is read live from the model, so it is always current.
"""

from dataclasses import dataclass, field

import torch
from torch import nn

from tlgui.core.errors import InputSizeError
from tlgui.core.model.freeze import trainable_state

# A traced module's containers become plain nn.Module; tlgui.core.model.graph keeps the original
# class names in this attribute so that the tree can still say "Sequential" or "BasicBlock".
TYPE_NAMES = "_tlgui_type_names"


@dataclass
class LayerNode:
    name: str  # qualified name; "" for the root
    type_name: str
    own_params: int
    total_params: int
    output_shape: tuple[int, ...] | None = None
    children: list["LayerNode"] = field(default_factory=list)

    @property
    def short_name(self) -> str:
        return self.name.rpartition(".")[2] or "(model)"


def _shape_of(output: object) -> tuple[int, ...] | None:
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return tuple(output[0].shape)
    return None


CANDIDATE_SIDES = (224, 32, 28, 64, 96, 128, 299)


def declared_input_size(model: nn.Module) -> tuple[int, int, int] | None:
    """The size a model says it takes: its ``input_size`` attribute or timm's config."""
    size = getattr(model, "input_size", None)
    if size is None:
        size = (getattr(model, "pretrained_cfg", None) or {}).get("input_size")
    if isinstance(size, int):
        size = (3, size, size)
    return tuple(int(n) for n in size) if size is not None else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _dry_run(model: nn.Module, input_size: tuple[int, ...]) -> str | None:
    """None when one zero image of ``input_size`` runs through ``model``, else the reason."""
    try:
        output_shapes(model, input_size, hooks=False)
    except Exception as exc:  # a size that does not fit fails in many ways
        return _first_line(exc)
    return None


def find_input_size(model: nn.Module, preferred: tuple[int, ...] | None = None
                    ) -> tuple[int, int, int]:
    """The input size to dry-run ``model`` with: ``preferred`` (checked), the size the model
    declares, or the first of 224, 32, 28, 64, 96, 128, 299 pixels (3 channels, then 1)
    that runs. Raises InputSizeError in one sentence when none does."""
    if preferred is not None:
        size = tuple(int(n) for n in preferred)
        reason = _dry_run(model, size)
        if reason is not None:
            raise InputSizeError(
                f"the model does not run on input size {'x'.join(map(str, size))} ({reason})")
        return size  # type: ignore[return-value]
    declared = declared_input_size(model)
    if declared is not None:
        return declared
    for channels in (3, 1):
        for side in CANDIDATE_SIDES:
            if _dry_run(model, (channels, side, side)) is None:
                return channels, side, side
    sides = ", ".join(map(str, CANDIDATE_SIDES))
    raise InputSizeError(
        f"the model ran on none of the input sizes tried (3 or 1 channels, square sides "
        f"{sides}); give its size with --input-size CxHxW (in the app: Open model, Input size)")


@torch.no_grad()
def output_shapes(model: nn.Module, input_size: tuple[int, ...], *, hooks: bool = True
                  ) -> dict[str, tuple[int, ...]]:
    """Output shape of every module from one forward pass of a single zero image."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name, module in model.named_modules() if hooks else ():
        def hook(_m, _inp, out, name=name):
            shape = _shape_of(out)
            if shape is not None:
                shapes.setdefault(name, shape)

        handles.append(module.register_forward_hook(hook))
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        model(torch.zeros(1, *input_size, device=device))
    finally:
        for module, training in modes.items():
            module.training = training
        for handle in handles:
            handle.remove()
    return shapes


class LayerTree:
    """A model's layers as a tree, with live trainable state per node."""

    def __init__(self, model: nn.Module, input_size: tuple[int, ...] | None = None) -> None:
        self.model = model
        shapes = output_shapes(model, input_size) if input_size else {}
        self.nodes: dict[str, LayerNode] = {}
        type_names = model.__dict__.get(TYPE_NAMES, {})
        for name, module in model.named_modules():
            node = LayerNode(
                name=name,
                type_name=type_names.get(name, type(module).__name__) if name else
                type(module).__name__,
                own_params=sum(p.numel() for p in module.parameters(recurse=False)),
                total_params=sum(p.numel() for p in module.parameters()),
                output_shape=shapes.get(name),
            )
            self.nodes[name] = node
            if name:
                self.nodes[name.rpartition(".")[0]].children.append(node)
        self.root = self.nodes[""]
        for node in reversed(self.nodes.values()):  # children before parents
            if node.output_shape is None and node.children:
                node.output_shape = node.children[-1].output_shape

    def state(self, name: str) -> str | None:
        """'trainable', 'frozen', 'mixed', or None for a layer without parameters."""
        return trainable_state(self.model.get_submodule(name))

    def trainable_params(self, name: str = "") -> int:
        return sum(p.numel() for p in self.model.get_submodule(name).parameters() if p.requires_grad)

    def walk(self):
        """Nodes in depth-first order with their depth."""
        stack = [(self.root, 0)]
        while stack:
            node, depth = stack.pop()
            yield node, depth
            stack.extend((child, depth + 1) for child in reversed(node.children))

    def as_dict(self) -> dict:
        def node_dict(node: LayerNode) -> dict:
            return {
                "name": node.name,
                "type": node.type_name,
                "own_params": node.own_params,
                "total_params": node.total_params,
                "output_shape": list(node.output_shape) if node.output_shape else None,
                "trainable": self.state(node.name),
                "children": [node_dict(c) for c in node.children],
            }

        return {
            "total_params": self.root.total_params,
            "trainable_params": self.trainable_params(),
            "tree": node_dict(self.root),
        }

    def format_text(self) -> str:
        rows = [f"{'layer':<48} {'type':<22} {'output':<20} {'params':>12}  trainable"]
        for node, depth in self.walk():
            shape = "x".join(str(d) for d in node.output_shape) if node.output_shape else "-"
            label = ("  " * depth + node.short_name)[:48]
            state = self.state(node.name) or "-"
            rows.append(f"{label:<48} {node.type_name[:22]:<22} {shape:<20} "
                        f"{node.total_params:>12,}  {state}")
        rows.append(f"total parameters: {self.root.total_params:,}; "
                    f"trainable: {self.trainable_params():,}")
        return "\n".join(rows)
