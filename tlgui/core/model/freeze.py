"""Freezing and unfreezing layers by name, glob pattern, index or position.

A layer is frozen when its parameters have ``requires_grad=False``. With
``train_bn=True`` (fastai's option) BatchNorm affine parameters stay trainable.
Frozen BatchNorm layers run in eval mode in :func:`set_train_mode`, so their
running statistics cannot drift.
"""

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from torch import nn

from tlgui.core.errors import NoMatchError
from tlgui.core.model.heads import find_classifier

BN_TYPES = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)
_RUNNING_STATS = (nn.modules.batchnorm._BatchNorm,)


def _module_names(model: nn.Module) -> list[str]:
    return [n for n, _ in model.named_modules() if n]


def _subtree(model: nn.Module, name: str) -> list[nn.Module]:
    return list(model.get_submodule(name).modules()) if name else list(model.modules())


def set_trainable(
    model: nn.Module, names: Iterable[str], trainable: bool, *, train_bn: bool = False
) -> int:
    """Set ``requires_grad`` on every parameter under the named modules.

    Returns how many parameter tensors were touched. With ``train_bn`` the affine
    parameters of norm layers are left trainable when freezing.
    """
    touched = 0
    for name in names:
        for module in _subtree(model, name):
            if not trainable and train_bn and isinstance(module, BN_TYPES):
                continue
            for param in module.parameters(recurse=False):
                param.requires_grad_(trainable)
                touched += 1
    return touched


def match_layers(model: nn.Module, patterns: Sequence[str]) -> list[str]:
    """Top-most module names matched by glob ``patterns`` (a parameter name selects its layer).

    Raises :class:`NoMatchError` naming any pattern that matches nothing.
    """
    names = _module_names(model)
    param_owners = {p.rpartition(".")[0]: p for p, _ in model.named_parameters()}
    chosen: list[str] = []
    for pattern in patterns:
        hits = [n for n in names if fnmatchcase(n, pattern)]
        hits += [owner for owner, p in param_owners.items() if fnmatchcase(p, pattern)]
        if not hits:
            close = [n for n in names if pattern.strip("*") and pattern.strip("*") in n][:5]
            hint = f"; names that contain it: {', '.join(close)}" if close else ""
            tops = ", ".join(n for n, _ in model.named_children())
            raise NoMatchError(
                f"'{pattern}' matches no layer{hint}. Top-level layers: {tops}. "
                "Patterns are globs on dotted names, e.g. 'layer1*' or 'features.0'."
            )
        chosen += hits
    hit = set(chosen)
    unique = [n for n in names if n in hit]
    return [n for n in unique if not any(n.startswith(o + ".") for o in unique)]


Selector = str | int


def select_layers(model: nn.Module, selectors: Sequence[Selector]) -> list[str]:
    """Layer names for glob patterns (str) and top-level child indexes (int, negative
    counts from the end). Raises :class:`NoMatchError` for a selector that finds nothing."""
    patterns = [s for s in selectors if isinstance(s, str)]
    names = match_layers(model, patterns) if patterns else []
    return names + [n for n in children_by_index(model, [s for s in selectors
                                                          if isinstance(s, int)])
                    if n not in names]


def freeze(model: nn.Module, selectors: Sequence[Selector], *, train_bn: bool = False) -> list[str]:
    """Freeze the layers matched by globs or indexes; returns the matched layer names."""
    names = select_layers(model, selectors)
    set_trainable(model, names, False, train_bn=train_bn)
    return names


def unfreeze(model: nn.Module, selectors: Sequence[Selector]) -> list[str]:
    """Unfreeze the layers matched by globs or indexes; returns the matched layer names."""
    names = select_layers(model, selectors)
    set_trainable(model, names, True)
    return names


def children_by_index(model: nn.Module, indexes: Iterable[int]) -> list[str]:
    """Names of top-level children by index; negative indexes count from the end."""
    children = [n for n, _ in model.named_children()]
    out = []
    for i in indexes:
        if not -len(children) <= i < len(children):
            raise NoMatchError(
                f"index {i} is out of range: the model has {len(children)} top-level "
                f"children ({', '.join(children)}), so use {-len(children)}..{len(children) - 1}"
            )
        out.append(children[i])
    return out


def _split_at(model: nn.Module, name: str) -> tuple[list[str], list[str]]:
    """Module names up to and including ``name``'s subtree, and those after it."""
    names = _module_names(model)
    if name not in names:
        raise NoMatchError(f"no layer named '{name}'")
    last = max(i for i, n in enumerate(names) if n == name or n.startswith(name + "."))
    return names[: last + 1], names[last + 1:]


def _leaf_owners(model: nn.Module, names: list[str]) -> list[str]:
    """Only the modules that hold parameters themselves (so parents are not swept in)."""
    return [n for n in names if any(True for _ in model.get_submodule(n).parameters(recurse=False))]


def freeze_up_to(model: nn.Module, name: str, *, train_bn: bool = False) -> list[str]:
    """Freeze every layer up to and including ``name``, in registration order."""
    before, _ = _split_at(model, name)
    owners = _leaf_owners(model, before)
    set_trainable(model, owners, False, train_bn=train_bn)
    return owners


def unfreeze_from(model: nn.Module, name: str) -> list[str]:
    """Unfreeze ``name`` and every layer after it."""
    before, after = _split_at(model, name)
    start = before.index(name)
    owners = _leaf_owners(model, before[start:] + after)
    set_trainable(model, owners, True)
    return owners


def freeze_all_but_head(model: nn.Module, *, train_bn: bool = False) -> str:
    """The "head only" preset: everything frozen but the classifier; returns its name."""
    head = find_classifier(model)
    set_trainable(model, [""], False, train_bn=train_bn)
    set_trainable(model, [head], True)
    return head


def block_names(model: nn.Module) -> list[str]:
    """The network's blocks in order, the head's own block excluded: top-level children with
    parameters, a container of several such blocks (timm's ``blocks``, a Sequential) opened
    one level."""
    head = find_classifier(model)
    out = []
    for name, child in model.named_children():
        inner = [f"{name}.{n}" for n, m in child.named_children()
                 if any(True for _ in m.parameters()) and f"{name}.{n}" != head]
        if not any(True for _ in child.parameters()) or name == head:
            continue
        out += inner if isinstance(child, (nn.Sequential, nn.ModuleList)) and len(inner) > 1 \
            else [name]
    return out


def unfreeze_last_blocks(model: nn.Module, count: int) -> list[str]:
    """Make the last ``count`` blocks (and so everything after them) trainable."""
    names = block_names(model)[-count:]
    set_trainable(model, names, True)
    return names


def unfreeze_all(model: nn.Module) -> None:
    set_trainable(model, [""], True)


def trainable_state(module: nn.Module) -> str | None:
    """'trainable', 'frozen' or 'mixed' for a module's parameters; None when it has none."""
    flags = {p.requires_grad for p in module.parameters()}
    if not flags:
        return None
    if len(flags) == 2:
        return "mixed"
    return "trainable" if flags.pop() else "frozen"


def frozen_modules(model: nn.Module) -> set[str]:
    """Modules that count as frozen: all their parameters frozen, or, for a module with
    none (a BatchNorm without affine), its nearest ancestor with parameters is frozen."""
    states = {n: trainable_state(m) for n, m in model.named_modules()}
    frozen = set()
    for name, state in states.items():
        probe = name
        while state is None and probe:
            probe = probe.rpartition(".")[0]
            state = states[probe]
        if state == "frozen":
            frozen.add(name)
    return frozen


def set_train_mode(model: nn.Module) -> nn.Module:
    """``model.train()``, then eval mode for every frozen layer with running statistics."""
    model.train()
    frozen = frozen_modules(model)
    for name, module in model.named_modules():
        if name in frozen and isinstance(module, _RUNNING_STATS):
            module.eval()
    return model
