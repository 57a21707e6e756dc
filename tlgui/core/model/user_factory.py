"""A model built by the user's own Python code: ``path/to/file.py:factory``."""

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

from torch import nn

from tlgui.core.errors import FactoryError
from tlgui.core.model.heads import classifier_width
from tlgui.core.model.loaded import LoadedModel, eval_transform
from tlgui.core.model.provenance import Origin, set_origins
from tlgui.core.model.tree import declared_input_size, find_input_size


def build_from_factory(spec: str, weights: str, trust_code: bool,
                       input_size: tuple[int, ...] | None = None) -> LoadedModel:
    """``path/to/file.py:factory`` (``create_model`` when no name is given), run only when
    the user trusts the file."""
    file_part, _, func_name = spec.rpartition(":") if ".py:" in spec else (spec, "", "")
    func_name = func_name or "create_model"
    path = Path(file_part)
    if not trust_code:
        raise FactoryError(
            f"loading '{spec}' runs the Python code in {path}. That is an explicit choice: "
            "pass --trust-code on the command line (or tick 'I trust this file' in the app)."
        )
    if not path.is_file():
        raise FactoryError(f"model factory file not found: {path}")
    factory = _import_factory(path, func_name)
    try:
        model = factory()
    except Exception as exc:
        raise FactoryError(
            f"{path}:{func_name}() raised {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(model, nn.Module):
        raise FactoryError(
            f"{path}:{func_name}() returned {type(model).__name__}, not a torch.nn.Module"
        )
    size = find_input_size(model, input_size)
    loaded = LoadedModel(
        model=model.eval(),
        transform=eval_transform((size[1], size[2]), mean=(0.485, 0.456, 0.406),
                                 std=(0.229, 0.224, 0.225), channels=size[0]),
        class_names=[f"class_{i}" for i in range(classifier_width(model) or 0)],
        input_size=size,
        spec=spec,
        weights=weights,
    )
    if input_size is None and declared_input_size(model) is None:
        loaded.notes.append(f"input size {'x'.join(map(str, size))}: the first size tried that "
                            "the model runs on (set it with --input-size)")
    set_origins(model, {n: Origin("pretrained", f"{path.name}:{func_name}():{n}")
                        for n in model.state_dict()}, replace=True)
    return loaded


def _import_factory(path: Path, func_name: str) -> Callable[[], nn.Module]:
    module_name = f"tlgui_user_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise FactoryError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise FactoryError(f"importing {path} raised {type(exc).__name__}: {exc}") from exc
    factory = getattr(module, func_name, None)
    if not callable(factory):
        names = [n for n in vars(module) if callable(vars(module)[n]) and not n.startswith("_")]
        raise FactoryError(
            f"{path} has no callable '{func_name}'; callables there: {', '.join(names) or 'none'}"
        )
    return factory
