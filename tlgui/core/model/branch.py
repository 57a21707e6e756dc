"""Growing a parallel branch beside part of a network (DESIGN.md, scenario 1).

The span of the traced graph from ``fork`` to ``join`` is duplicated: the main path keeps
the original's weights (copied, never aliased), the branch gets a copy of the same span
(``init="copy"``) or freshly initialised layers (``init="fresh"``), and both outputs are
merged at ``join``. Branch modules live under ``branch.<original name>``.
"""

import copy
import difflib
import operator
from typing import Literal

import torch
from torch import fx, nn

from tlgui.core.errors import SurgeryError
from tlgui.core.model.graph import ancestors, descendants, output_shapes, trace
from tlgui.core.model.heads import find_classifier
from tlgui.core.model.provenance import Origin, set_origins, store_annotation
from tlgui.core.model.tree import TYPE_NAMES, find_input_size

Init = Literal["copy", "fresh"]
Merge = Literal["concat", "sum", "mean"]
BRANCH = "branch"


def add_parallel_branch(
    model: nn.Module,
    fork: str,
    join: str,
    init: Init = "copy",
    merge: Merge = "concat",
    num_classes: int | None = None,
    *,
    input_size: tuple[int, ...] | None = None,
) -> fx.GraphModule:
    """A new model computing the original path and a parallel branch from ``fork`` to
    ``join``, merged there. ``model`` is not modified and shares no storage with the result.

    ``concat`` widens the join's output, so the classifier after it is replaced by a fresh
    ``Linear(d_main + d_branch, C)`` (C = ``num_classes`` or the old width); ``sum`` and
    ``mean`` keep the rest of the network, weights included.
    """
    if init not in ("copy", "fresh"):
        raise SurgeryError(f"init must be 'copy' or 'fresh', not '{init}'")
    if merge not in ("concat", "sum", "mean"):
        raise SurgeryError(f"merge must be 'concat', 'sum' or 'mean', not '{merge}'")
    example = torch.zeros(1, *find_input_size(model, input_size))
    traced = trace(copy.deepcopy(model))
    gm = traced.module
    fork_node = _lookup(traced.nodes, fork, "fork")
    join_node = _lookup(traced.nodes, join, "join")
    qualnames = {node: name for name, node in traced.nodes.items()}
    span = _span(fork_node, join_node, fork, join, qualnames)
    head_name = find_classifier(model) if merge == "concat" or num_classes else None
    head_nodes = [n for n in gm.graph.nodes if n.op == "call_module" and n.target == head_name]
    if merge == "concat":
        _check_concat_target(head_nodes, span, join_node, head_name, join)
    clones, sources = _duplicate(gm, span, fork_node)
    shapes = output_shapes(gm, example)
    _check_shapes(shapes[join_node], shapes[clones[join_node]], merge, join)
    _merge(gm, join_node, clones[join_node], merge)
    fresh = _reinitialise(gm, sources) if init == "fresh" else set()
    if head_name and (merge == "concat" or num_classes != _width(gm, head_name)):
        _fit_head(gm, head_name, head_nodes, num_classes, example)
        fresh |= {f"{head_name}.{n}" for n, _ in gm.get_submodule(head_name).named_parameters()}
    _record_provenance(gm, fresh)
    type_names = dict(gm.__dict__[TYPE_NAMES])
    type_names.update({f"{BRANCH}.{n}": t for n, t in type_names.items() if n})
    store_annotation(gm, TYPE_NAMES, {**type_names, BRANCH: "ParallelBranch"})
    store_annotation(gm, "input_size", tuple(example.shape[1:]))
    return gm


def branch_points(model: nn.Module) -> tuple[list[str], dict[str, list[str]]]:
    """Fork candidates in execution order, and for each the joins that are after it on every
    path (the only ones :func:`add_parallel_branch` accepts)."""
    traced = trace(model)
    qualnames = {node: name for name, node in traced.nodes.items()}
    names = [n for n, node in traced.nodes.items() if node.op != "output"]
    joins: dict[str, list[str]] = {}
    for fork in names:
        fork_node = traced.nodes[fork]
        after = descendants(fork_node)
        valid = []
        for join in names:
            if traced.nodes[join] in after:
                try:
                    _span(fork_node, traced.nodes[join], fork, join, qualnames)
                except SurgeryError:
                    continue
                valid.append(join)
        joins[fork] = valid
    return names, joins


def _lookup(nodes: dict[str, fx.Node], name: str, role: str) -> fx.Node:
    if name in nodes and nodes[name].op != "output":
        return nodes[name]
    close = difflib.get_close_matches(name, list(nodes), n=5, cutoff=0.5)
    hint = f" Close names: {', '.join(close)}." if close else ""
    raise SurgeryError(
        f"the {role} '{name}' is not a node of this network's graph.{hint} Node names come "
        "from torchvision.models.feature_extraction.get_graph_node_names (the input is 'x')."
    )


def _span(fork: fx.Node, join: fx.Node, fork_name: str, join_name: str,
          qualnames: dict[fx.Node, str]) -> list[fx.Node]:
    """Nodes after ``fork`` that lead to ``join`` (join included), in graph order."""
    after_fork = descendants(fork)
    if join not in after_fork:
        raise SurgeryError(
            f"the join '{join_name}' does not come after the fork '{fork_name}': pick a join "
            f"that uses the fork's output, directly or through later layers"
        )
    wanted = (after_fork & ancestors(join)) | {join}
    span = [n for n in fork.graph.nodes if n in wanted]
    for node in span:
        for source in node.all_input_nodes:
            if source is not fork and source not in wanted and source.op != "get_attr":
                raise SurgeryError(
                    f"the join '{join_name}' is not after the fork '{fork_name}' on every path: "
                    f"'{qualnames.get(node, node.name)}' also takes "
                    f"'{qualnames.get(source, source.name)}', which does not pass through the "
                    "fork. Fork earlier (before that connection starts) or join earlier."
                )
    return span


def _check_concat_target(head_nodes: list[fx.Node], span: list[fx.Node], join: fx.Node,
                         head_name: str, join_name: str) -> None:
    if not head_nodes:
        raise SurgeryError(f"the classifier '{head_name}' is not called in the traced graph")
    if any(n in span for n in head_nodes):
        raise SurgeryError(
            f"the join '{join_name}' is at or after the classifier '{head_name}'; concat needs "
            "a join whose features feed the classifier: join before it, or merge with sum/mean"
        )
    if not all(n in descendants(join) for n in head_nodes):
        raise SurgeryError(
            f"the classifier '{head_name}' does not take the join '{join_name}''s output; "
            "concat needs a join whose features feed the classifier"
        )


def _duplicate(gm: fx.GraphModule, span: list[fx.Node], fork: fx.Node
               ) -> tuple[dict[fx.Node, fx.Node], dict[str, str]]:
    """Copy the span's nodes, modules and attributes; returns node -> copy and
    branch target -> original target."""
    env: dict[fx.Node, fx.Node] = {fork: fork}
    sources: dict[str, str] = {}
    attr_inputs = [s for n in span for s in n.all_input_nodes if s.op == "get_attr"]
    with gm.graph.inserting_before(span[-1].next):
        for node in dict.fromkeys(attr_inputs + span):
            new = gm.graph.node_copy(node, lambda arg: env.get(arg, arg))
            if node.op in ("call_module", "get_attr"):
                new.target = f"{BRANCH}.{node.target}"
                if new.target not in sources:
                    sources[new.target] = node.target
                    _copy_attribute(gm, node.target, new.target)
            env[node] = new
    return env, sources


def _copy_attribute(gm: fx.GraphModule, source: str, target: str) -> None:
    owner_path, _, attr = target.rpartition(".")
    value = gm.get_submodule(source) if _is_module(gm, source) else _tensor_attr(gm, source)
    if isinstance(value, nn.Module):
        gm.add_submodule(target, copy.deepcopy(value))
        return
    if not _is_module(gm, owner_path):
        gm.add_submodule(owner_path, nn.Module())
    owner = gm.get_submodule(owner_path)
    clone = value.detach().clone()
    if isinstance(value, nn.Parameter):
        owner.register_parameter(attr, nn.Parameter(clone, requires_grad=value.requires_grad))
    else:
        owner.register_buffer(attr, clone)


def _is_module(gm: nn.Module, path: str) -> bool:
    try:
        gm.get_submodule(path)
    except AttributeError:
        return False
    return True


def _tensor_attr(gm: nn.Module, path: str) -> torch.Tensor:
    owner_path, _, attr = path.rpartition(".")
    return getattr(gm.get_submodule(owner_path) if owner_path else gm, attr)


def _check_shapes(main: tuple[int, ...], branch: tuple[int, ...], merge: str, join: str) -> None:
    if merge in ("sum", "mean") and main != branch:
        raise SurgeryError(
            f"{merge} needs equal shapes at '{join}', but the main path gives {list(main)} and "
            f"the branch {list(branch)}; use concat, or a join where both agree"
        )
    if merge == "concat" and (len(main) != len(branch) or main[2:] != branch[2:]):
        raise SurgeryError(f"concat along channels needs equal shapes apart from dimension 1 "
                           f"at '{join}', not {list(main)} and {list(branch)}")


def _merge(gm: fx.GraphModule, join: fx.Node, copy_of_join: fx.Node, merge: str) -> None:
    with gm.graph.inserting_after(copy_of_join):
        if merge == "concat":
            merged = gm.graph.call_function(torch.cat, ([join, copy_of_join],), {"dim": 1})
            made = {merged}
        else:
            added = gm.graph.call_function(operator.add, (join, copy_of_join))
            made = {added}
            merged = added
            if merge == "mean":
                with gm.graph.inserting_after(added):
                    merged = gm.graph.call_function(operator.mul, (added, 0.5))
                made.add(merged)
    join.replace_all_uses_with(merged, delete_user_cb=lambda user: user not in made)
    gm.graph.lint()
    gm.recompile()


def _reinitialise(gm: fx.GraphModule, sources: dict[str, str]) -> set[str]:
    """Reset every branch layer that knows how (``reset_parameters``); returns the names
    of the tensors that were freshly initialised."""
    fresh: set[str] = set()
    for target in sources:
        if not _is_module(gm, target):
            continue
        for name, module in gm.get_submodule(target).named_modules(prefix=target):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
                fresh |= {f"{name}.{n}" for n, _ in module.named_parameters(recurse=False)}
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    fresh |= {f"{name}.{n}" for n, _ in module.named_buffers(recurse=False)}
    return fresh


def _width(gm: fx.GraphModule, head_name: str) -> int | None:
    return getattr(gm.get_submodule(head_name), "out_features", None)


def _fit_head(gm: fx.GraphModule, head_name: str, head_nodes: list[fx.Node],
              num_classes: int | None, example: torch.Tensor) -> None:
    """Replace the classifier by a fresh Linear sized for what now reaches it."""
    old = gm.get_submodule(head_name)
    if not isinstance(old, nn.Linear):
        raise SurgeryError(f"the classifier '{head_name}' is a {type(old).__name__}, not a Linear")
    gm.add_submodule(head_name, nn.Identity())
    try:
        shapes = output_shapes(gm, example.to(old.weight.device))
    except Exception as exc:
        raise SurgeryError(
            f"after the merge the layers before the classifier cannot take the wider features "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]}). Join at the node that feeds "
            "the classifier (after pooling and flattening), or merge with sum/mean."
        ) from exc
    width = shapes[head_nodes[0].args[0]][-1]
    new = nn.Linear(width, num_classes or old.out_features, bias=old.bias is not None)
    gm.add_submodule(head_name, new.to(device=old.weight.device, dtype=old.weight.dtype))


def _record_provenance(gm: fx.GraphModule, fresh: set[str]) -> None:
    prefix = BRANCH + "."
    origins = {}
    for name in gm.state_dict():
        if name in fresh:
            origins[name] = Origin("fresh")
        elif name.startswith(prefix):
            origins[name] = Origin("copied", name[len(prefix):])
        else:
            origins[name] = Origin("main", name)
    set_origins(gm, origins, replace=True)
