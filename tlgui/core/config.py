"""Training settings and every option vocabulary: the one list of optimisers, schedules,
augmentations, caches, devices and freezing presets.

The command line (:func:`add_config_arguments`), the app's form and :func:`check_config` are
generated from this module; nothing else lists these choices. This is a leaf: it imports
nothing from tlgui but the errors.
"""

import argparse
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Literal, get_args

from tlgui.core.errors import ValidationError

Optimizer = Literal["adamw", "adam", "sgd"]
Schedule = Literal["cosine", "onecycle", "constant"]
Spread = Literal["two-groups", "geometric"]
Augment = Literal["auto", "none", "light", "strong"]
CacheChoice = Literal["auto", "on", "off"]
Device = Literal["auto", "cpu", "cuda", "mps"]  # and cuda:N
Preset = Literal["head-only", "all"]
BranchInit = Literal["copy", "fresh"]
BranchMerge = Literal["concat", "sum", "mean"]

OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
SPREADS: tuple[str, ...] = get_args(Spread)
AUGMENTS: tuple[str, ...] = get_args(Augment)
AUGMENT_PRESETS = tuple(a for a in AUGMENTS if a != "auto")  # what "auto" resolves to
CACHES: tuple[str, ...] = get_args(CacheChoice)
DEVICES: tuple[str, ...] = get_args(Device)
PRESETS: tuple[str, ...] = get_args(Preset)
BRANCH_INITS: tuple[str, ...] = get_args(BranchInit)
BRANCH_MERGES: tuple[str, ...] = get_args(BranchMerge)
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
MAX_SEED = 2**63 - 1


def _setting(default, help: str, *, choices: tuple[str, ...] = (), cli: bool = True,
             label: str = ""):
    """A TrainConfig field with what the command line and the form need to show it."""
    meta = {"help": help, "choices": choices, "cli": cli, "label": label}
    if isinstance(default, (dict, list)):
        return field(default_factory=type(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class UnfreezeStep:
    """At ``epoch`` (0-based), unfreeze ``what``: "all", or the last ``k`` blocks as an int."""

    epoch: int
    what: str | int = "all"


@dataclass
class TrainConfig:
    epochs: int = _setting(5, "passes over the training images", label="Epochs")
    batch_size: int = _setting(32, "images per step", label="Batch size")
    lr: float = _setting(1e-3, "the learning rate of the new layers", label="Learning rate")
    optimizer: Optimizer = _setting("adamw", "SGD uses the momentum; no weight decay on norms "
                                    "and biases", choices=OPTIMIZERS, label="Optimiser")
    momentum: float = _setting(0.9, "SGD's momentum", label="Momentum")
    weight_decay: float = _setting(1e-4, "decoupled weight decay", label="Weight decay")
    schedule: Schedule = _setting("cosine", "learning-rate schedule over the batches",
                                  choices=SCHEDULES, label="Schedule")
    pretrained_lr_mult: float = _setting(
        0.1, "pretrained layers learn this much slower than new ones", label="Pretrained ×")
    lr_spread: Spread = _setting("two-groups", "geometric: pretrained rates rise from the first "
                                 "trainable block to the head", choices=SPREADS,
                                 label="Rate spread")
    lr_multipliers: dict[str, float] = _setting({}, "glob on names -> factor", cli=False)
    unfreeze: list[UnfreezeStep] = _setting([], "gradual unfreezing steps", cli=False)
    train_bn: bool = _setting(False, "keep BatchNorm layers trainable and in train mode inside "
                              "frozen parts")
    augment: Augment = _setting("auto", "auto: none when features can be cached, else light",
                                choices=AUGMENTS, label="Augmentation")
    cache: CacheChoice = _setting("auto", "compute the frozen part once per image and train "
                                  "only the rest", choices=CACHES, label="Feature cache")
    cache_dir: str | None = _setting(None, "keep feature caches on disk here")
    device: str = _setting("auto", "auto picks CUDA, then Apple MPS, then the CPU",
                           choices=DEVICES, label="Device")
    amp: bool = _setting(True, "mixed precision where it pays: bfloat16 on Ampere and newer "
                         "GPUs and on CPUs with native bfloat16 (AVX512-BF16, AMX), float16 "
                         "with loss scaling on older GPUs, float32 elsewhere; the loss and the "
                         "weights stay float32")
    channels_last: bool = _setting(True, "channels-last memory format (faster convolutions "
                                   "on CPUs and on tensor cores)")
    workers: int = _setting(-1, "DataLoader workers (default: up to 8 on CUDA, none on the CPU)")
    seed: int = _setting(0, "governs everything random: head and branch initialisation, the "
                         "split, shuffling, augmentation, dropout", label="Seed")
    deterministic: bool = _setting(False, "use deterministic algorithms (same run on CUDA too; "
                                   "slower there)")
    image_cache: bool = _setting(False, "keep decoded, resized images on disk", cli=False)
    image_cache_dir: str | None = _setting(None, "default: decoded/ in tlgui's cache folder "
                                        "($TLGUI_CACHE_DIR or ~/.cache/tlgui)", cli=False)
    image_cache_mb: int = _setting(4096, "bound of the decoded-image cache in MB")
    gpu_decode: bool = _setting(False, "with --image-cache on CUDA: fill the cache with JPEGs "
                                "decoded on the GPU")
    checkpoint_dir: str | None = _setting(None, "where checkpoints go", cli=False)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["unfreeze"] = [UnfreezeStep(**step) for step in data.get("unfreeze", [])]
        return cls(**data)


def choices_of(name: str) -> tuple[str, ...]:
    """The allowed values of a TrainConfig field (empty for free values)."""
    return TrainConfig.__dataclass_fields__[name].metadata["choices"]


def help_of(name: str) -> str:
    return TrainConfig.__dataclass_fields__[name].metadata["help"]


def label_of(name: str) -> str:
    return TrainConfig.__dataclass_fields__[name].metadata["label"] or name


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--epochs``, ``--optimizer`` … for every plain TrainConfig field, choices included."""
    for spec in fields(TrainConfig):
        if not spec.metadata["cli"]:
            continue
        flag = "--" + spec.name.replace("_", "-")
        meta = spec.metadata
        if isinstance(spec.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction,
                                default=spec.default, help=meta["help"])
            continue
        kind = {int: int, float: float}.get(type(spec.default), str)
        choices = meta["choices"] if meta["choices"] and spec.name != "device" else None
        shown = "" if spec.default is None or "default" in meta["help"] else \
            " (default: %(default)s)"
        parser.add_argument(flag, type=kind, default=spec.default, choices=choices,
                            help=meta["help"] + shown)


def config_from_args(args: argparse.Namespace, **extra) -> TrainConfig:
    """The TrainConfig of the fields :func:`add_config_arguments` added, plus ``extra``."""
    values = {s.name: getattr(args, s.name) for s in fields(TrainConfig) if s.metadata["cli"]}
    return TrainConfig(**values, **extra)


def check_number(value: object, name: str, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False, integer: bool = False,
                 field: str = "") -> None:
    """A finite number in range, or a ValidationError naming it."""
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ValidationError(f"{name} must be {kind}, not {value!r}", field)
    if not math.isfinite(value):
        raise ValidationError(f"{name} must be a finite number, not {value}", field)
    if low is not None and (value <= low if low_open else value < low):
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise ValidationError(f"{name} must be {bound}, not {value:g}", field)
    if high is not None and value > high:
        raise ValidationError(f"{name} must be at most {high:g}, not {value:g}", field)


def check_choice(value: object, name: str, allowed: Iterable[str], field: str = "") -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, not {value!r}", field)


def check_config(config: TrainConfig) -> None:
    """Every training setting in range; raises ValidationError naming the first bad one."""
    check_number(config.epochs, "the number of epochs", low=1, high=100_000, integer=True,
                 field="epochs")
    check_number(config.batch_size, "the batch size", low=1, high=65_536, integer=True,
                 field="batch_size")
    check_number(config.lr, "the learning rate", low=0, low_open=True, field="lr")
    check_number(config.momentum, "the momentum", low=0, high=0.999, field="momentum")
    check_number(config.weight_decay, "the weight decay", low=0, high=1, field="weight_decay")
    check_number(config.pretrained_lr_mult, "the pretrained learning-rate factor", low=0,
                 high=100, field="pretrained_lr_mult")
    for name, words in (("optimizer", "the optimizer"), ("schedule", "the schedule"),
                        ("lr_spread", "the learning-rate spread"),
                        ("augment", "the augmentation"), ("cache", "the feature cache setting")):
        check_choice(getattr(config, name), words, choices_of(name), name)
    for pattern, factor in config.lr_multipliers.items():
        check_number(factor, f"the learning-rate multiplier of '{pattern}'", low=0, high=100,
                     field="lr_multipliers")
    for step in config.unfreeze:
        check_number(step.epoch + 1, "an unfreezing epoch", low=1, high=config.epochs,
                     integer=True, field="unfreeze")
        if step.what != "all":
            check_number(step.what, "the number of blocks to unfreeze", low=1, integer=True,
                         field="unfreeze")
    if not isinstance(config.device, str) or not DEVICE_PATTERN.match(config.device):
        raise ValidationError(f"the device must be auto, cpu, cuda, cuda:N or mps, not "
                              f"{config.device!r}", "device")
    check_number(config.workers, "the number of data-loading workers", low=-1, high=64,
                 integer=True, field="workers")
    check_number(config.seed, "the seed", low=0, high=MAX_SEED, integer=True, field="seed")
    check_number(config.image_cache_mb, "the decoded-image cache size in MB", low=16,
                 high=10_000_000, integer=True, field="image_cache_mb")
    if config.gpu_decode and not config.image_cache:
        raise ValidationError("GPU JPEG decoding fills the decoded-image cache: turn the image "
                              "cache on (--image-cache) as well", "gpu_decode")


def parse_unfreeze(items: Iterable[str]) -> list[UnfreezeStep]:
    """``EPOCH[:all|K]`` items (1-based epochs) into unfreezing steps."""
    steps = []
    for item in items:
        epoch, _, what = item.partition(":")
        if not epoch.isdigit() or int(epoch) < 1 or not (what.isdigit() or what in ("", "all")):
            raise ValidationError(f"unfreezing steps look like 3:all or 5:2 (epoch:all or "
                                  f"epoch:last K blocks), not '{item}'", "unfreeze")
        steps.append(UnfreezeStep(int(epoch) - 1, int(what) if what.isdigit() else "all"))
    return steps


def config_differences(old: TrainConfig, new: TrainConfig,
                       ignore: Iterable[str] = ("epochs", "checkpoint_dir", "cache_dir",
                                                "image_cache_dir", "workers", "device")
                       ) -> list[str]:
    """The settings that differ between two runs, as ``name: old → new`` (for resume)."""
    skip = set(ignore)
    a, b = old.as_dict(), new.as_dict()
    return [f"{name}: {a[name]!r} → {b[name]!r}" for name in a if name not in skip
            and a[name] != b[name]]
