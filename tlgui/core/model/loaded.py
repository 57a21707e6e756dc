"""A model ready to use: the network, how to feed it (its eval transform and input size)
and how to name its outputs."""

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn
from torchvision import transforms as T

from tlgui.core.model.weight_files import LoadReport


@dataclass
class LoadedModel:
    """A model ready to use, with how to feed it and how to name its outputs."""

    model: nn.Module
    transform: Callable
    class_names: list[str]
    input_size: tuple[int, int, int]
    spec: str
    weights: str
    report: LoadReport | None = None
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
