"""Finding a network's classifier and replacing it for a new number of classes."""

from torch import nn

from tlgui.core.errors import SurgeryError
from tlgui.core.model.provenance import mark_fresh


def find_classifier(model: nn.Module) -> str:
    """Qualified name of the final classification layer.

    Tries timm's ``get_classifier``, then torchvision's usual places (``fc``,
    ``classifier[-1]``, ``heads.head``, ``head``), then the last ``Linear``.
    """
    modules = dict(model.named_modules())
    names_by_id = {id(m): n for n, m in modules.items()}
    get_classifier = getattr(model, "get_classifier", None)
    if callable(get_classifier):
        head = get_classifier()
        if isinstance(head, nn.Module) and id(head) in names_by_id and names_by_id[id(head)]:
            return names_by_id[id(head)]
    for name in ("fc", "heads.head", "head", "classifier", "fc3"):
        module = modules.get(name)
        if isinstance(module, nn.Linear):
            return name
        if isinstance(module, nn.Sequential):
            linears = [n for n, m in module.named_modules() if isinstance(m, nn.Linear)]
            if linears:
                return f"{name}.{linears[-1]}"
    linears = [n for n, m in modules.items() if isinstance(m, nn.Linear)]
    if not linears:
        raise SurgeryError(
            f"{type(model).__name__} has no Linear layer to use as the classifier; "
            "replace the head in your own model code instead"
        )
    return linears[-1]


def classifier_width(model: nn.Module) -> int | None:
    """Number of outputs of the classifier, or None when there is none."""
    try:
        head = model.get_submodule(find_classifier(model))
    except SurgeryError:
        return None
    return head.out_features if isinstance(head, nn.Linear) else None


def replace_head(model: nn.Module, num_classes: int) -> str:
    """Put a freshly initialised ``Linear(in, num_classes)`` in place of the classifier.

    Returns the head's qualified name. The new tensors' provenance is recorded as fresh.
    """
    if num_classes < 1:
        raise SurgeryError(f"the number of classes must be at least 1, not {num_classes}")
    name = find_classifier(model)
    old = model.get_submodule(name)
    if not isinstance(old, nn.Linear):
        raise SurgeryError(f"the classifier {name} is a {type(old).__name__}, not a Linear")
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    new.to(device=old.weight.device, dtype=old.weight.dtype)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)
    if hasattr(model, "num_classes"):
        model.num_classes = num_classes
    mark_fresh(model, name)
    return name
