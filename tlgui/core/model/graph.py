"""Tracing a network into a torch.fx graph whose node names match torchvision's
``get_graph_node_names`` (``x`` is the input; repeats get ``_1``, ``_2`` suffixes)."""

import math
from dataclasses import dataclass

import torch
from torch import fx, nn

from tlgui.core.errors import SurgeryError
from tlgui.core.model.provenance import store_annotation
from tlgui.core.model.tree import TYPE_NAMES


@dataclass
class TracedModel:
    module: fx.GraphModule
    nodes: dict[str, fx.Node]  # qualified node name -> node, in execution order

    def name_of(self, node: fx.Node) -> str:
        return next(name for name, n in self.nodes.items() if n is node)


def _tracer_kwargs() -> dict:
    import torchvision
    from timm.layers import _fx as timm_fx

    return {
        "autowrap_modules": (math, torchvision.ops),
        "leaf_modules": list(timm_fx.get_notrace_modules()),
        "autowrap_functions": list(timm_fx.get_notrace_functions()),
    }


def trace(model: nn.Module) -> TracedModel:
    """Trace ``model`` in eval mode (its own training flags are kept)."""
    from torchvision.models.feature_extraction import NodePathTracer

    modes = {m: m.training for m in model.modules()}
    tracer = NodePathTracer(**_tracer_kwargs())
    try:
        graph = tracer.trace(model.eval())
    except Exception as exc:  # fx reports untraceable code with many exception types
        raise SurgeryError(
            f"{type(model).__name__} cannot be traced by torch.fx ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). Data-dependent Python control "
            "flow in forward() stops tracing; wrap that part in a module and register it as a "
            "leaf (timm.layers.register_notrace_module), or build the branch in your own code."
        ) from exc
    finally:
        for module, training in modes.items():
            module.training = training
    gm = fx.GraphModule(tracer.root, graph, class_name=type(model).__name__ + "Traced")
    store_annotation(gm, TYPE_NAMES, {name: type(m).__name__ for name, m in model.named_modules()})
    nodes = {name: node for node, name in tracer.node_to_qualname.items()}
    return TracedModel(module=gm, nodes=nodes)


def node_names(model: nn.Module) -> list[str]:
    """The names ``fork`` and ``join`` accept, in execution order."""
    return [n for n, node in trace(model).nodes.items() if node.op != "output"]


def _closure(node: fx.Node, step) -> set[fx.Node]:
    seen: set[fx.Node] = set()
    stack = list(step(node))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(step(current))
    return seen


def descendants(node: fx.Node) -> set[fx.Node]:
    return _closure(node, lambda n: n.users)


def ancestors(node: fx.Node) -> set[fx.Node]:
    return _closure(node, lambda n: n.all_input_nodes)


@torch.no_grad()
def output_shapes(gm: fx.GraphModule, example: torch.Tensor) -> dict[fx.Node, tuple[int, ...]]:
    """The shape of every tensor-valued node for one example input (eval mode)."""
    from torch.fx.passes.shape_prop import ShapeProp

    modes = {m: m.training for m in gm.modules()}
    try:
        ShapeProp(gm.eval()).propagate(example)
    finally:
        for module, training in modes.items():
            module.training = training
    return {n: tuple(n.meta["tensor_meta"].shape) for n in gm.graph.nodes
            if hasattr(n.meta.get("tensor_meta"), "shape")}
