"""One place that checks settings, recipes and data sets before any work starts.

Each check raises :class:`~tlgui.core.errors.ValidationError` with one plain sentence that
names the value and what is allowed; ``field`` says which setting it was.
"""

import math
import re
from collections.abc import Iterable

from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import ValidationError
from tlgui.core.train.train_events import TrainConfig, UnfreezeStep

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "onecycle")
SPREADS = ("two-groups", "geometric")
AUGMENTS = ("auto", "none", "light", "strong")
CACHES = ("auto", "on", "off")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
MAX_SEED = 2**63 - 1


def _number(value: object, name: str, *, low: float | None = None, high: float | None = None,
            low_open: bool = False, integer: bool = False, field: str = "") -> None:
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


def _choice(value: object, name: str, allowed: Iterable[str], field: str = "") -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, not {value!r}", field)


def check_config(config: TrainConfig) -> None:
    """Every training setting in range; raises ValidationError naming the first bad one."""
    _number(config.epochs, "the number of epochs", low=1, high=100_000, integer=True,
            field="epochs")
    _number(config.batch_size, "the batch size", low=1, high=65_536, integer=True,
            field="batch_size")
    _number(config.lr, "the learning rate", low=0, low_open=True, field="lr")
    _choice(config.optimizer, "the optimizer", OPTIMIZERS, "optimizer")
    _number(config.momentum, "the momentum", low=0, high=0.999, field="momentum")
    _number(config.weight_decay, "the weight decay", low=0, high=1, field="weight_decay")
    _choice(config.schedule, "the schedule", SCHEDULES, "schedule")
    _number(config.pretrained_lr_mult, "the pretrained learning-rate factor", low=0, high=100,
            field="pretrained_lr_mult")
    _choice(config.lr_spread, "the learning-rate spread", SPREADS, "lr_spread")
    for pattern, factor in config.lr_multipliers.items():
        _number(factor, f"the learning-rate multiplier of '{pattern}'", low=0, high=100,
                field="lr_multipliers")
    for step in config.unfreeze:
        _number(step.epoch + 1, "an unfreezing epoch", low=1, high=config.epochs, integer=True,
                field="unfreeze")
        if step.what != "all":
            _number(step.what, "the number of blocks to unfreeze", low=1, integer=True,
                    field="unfreeze")
    _choice(config.augment, "the augmentation", AUGMENTS, "augment")
    _choice(config.cache, "the feature cache setting", CACHES, "cache")
    if not isinstance(config.device, str) or not DEVICE_PATTERN.match(config.device):
        raise ValidationError(f"the device must be auto, cpu, cuda, cuda:N or mps, not "
                              f"{config.device!r}", "device")
    _number(config.workers, "the number of data-loading workers", low=-1, high=64,
            integer=True, field="workers")
    _number(config.seed, "the seed", low=0, high=MAX_SEED, integer=True, field="seed")
    _number(config.image_cache_mb, "the decoded-image cache size in MB", low=16,
            high=10_000_000, integer=True, field="image_cache_mb")
    if config.gpu_decode and not config.image_cache:
        raise ValidationError("GPU JPEG decoding fills the decoded-image cache: turn the image "
                              "cache on (--image-cache) as well", "gpu_decode")


def check_split_ratio(ratio: float) -> None:
    _number(ratio, "the split ratio", low=0, high=0.95, low_open=True, field="split_ratio")


def check_data(index: DataIndex) -> None:
    """A data set that can train a classifier: two classes or more, each with training
    images, and no validation class the training set lacks."""
    counts = index.counts()
    train = counts.get("train", {})
    present = [name for name, count in train.items() if count]
    if len(present) < 2:
        only = f" (only '{present[0]}')" if present else ""
        raise ValidationError(
            f"{index.root} has {len(present)} class{'es' if len(present) != 1 else ''} with "
            f"training images{only}; a classifier needs at least two, one folder per class",
            "data")
    empty = [name for name, count in train.items() if not count]
    elsewhere = [f"{split}/{name}" for split, per_class in counts.items() if split != "train"
                 for name in empty if per_class.get(name)]
    if elsewhere:
        raise ValidationError(
            f"{', '.join(elsewhere)} in {index.root} has no counterpart with images in train/: "
            "the model could never predict it; use the same class folders in every split",
            "data")
    if empty:
        raise ValidationError(
            f"the class folder(s) {', '.join(empty)} in {index.root} hold no training images; "
            "add images or remove the folder", "data")
    missing = [str(path) for samples in index.splits.values() for path, _ in samples
               if index.layout == "csv" and not path.is_file()]
    if missing:
        raise ValidationError(
            f"{len(missing)} listed image file(s) do not exist, for example {missing[0]}",
            "data")


def check_num_classes(value: object, name: str = "the number of classes") -> None:
    _number(value, name, low=1, high=1_000_000, integer=True, field="num_classes")


def check_topk(value: object) -> None:
    _number(value, "top-k", low=1, high=100_000, integer=True, field="topk")


def parse_input_size(text: str) -> tuple[int, int, int]:
    """``3x32x32`` (or ``32``, meaning 3x32x32) into (channels, height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 1:
        numbers = [3, numbers[0], numbers[0]]
    if len(numbers) != 3 or numbers[0] not in (1, 3) or not all(8 <= n <= 4096 for n in numbers[1:]):
        raise ValidationError(
            f"the input size must look like 3x224x224 (channels 1 or 3, sides 8 to 4096), not "
            f"'{text}'", "input_size")
    return tuple(numbers)  # type: ignore[return-value]


RECIPE_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "load": {"model": str},
    "replace_head": {"num_classes": int},
    "branch": {"fork": str, "join": str},
    "freeze": {"selectors": list},
    "unfreeze": {"selectors": list},
    "preset": {"name": str},
    "freeze_up_to": {"layer": str},
    "unfreeze_from": {"layer": str},
    "unfreeze_last_blocks": {"count": int},
}


def check_operation(op: object, position: int = 1) -> None:
    """One recipe operation: a known name with the fields it needs, of the right types."""
    where = f"recipe step {position}"
    if not isinstance(op, dict) or op.get("op") not in RECIPE_FIELDS:
        name = op.get("op") if isinstance(op, dict) else op
        raise ValidationError(f"{where} is {name!r}, which is not an operation; known: "
                              f"{', '.join(RECIPE_FIELDS)}", "recipe")
    for key, kind in RECIPE_FIELDS[op["op"]].items():
        if isinstance(op.get(key), bool) or not isinstance(op.get(key), kind):
            raise ValidationError(f"{where} ({op['op']}) needs '{key}', not {op.get(key)!r}",
                                  "recipe")
    if op["op"] == "replace_head" or op.get("num_classes") is not None:
        check_num_classes(op["num_classes"])
    if op["op"] == "load":
        _number(op.get("seed", 0), "the recipe's seed", low=0, high=MAX_SEED, integer=True,
                field="seed")
        if op.get("input_size") is not None:
            parse_input_size("x".join(str(n) for n in op["input_size"]))
    if op["op"] == "branch":
        _choice(op.get("init", "copy"), "the branch's init", ("copy", "fresh"), "branch")
        _choice(op.get("merge", "concat"), "the branch's merge", ("concat", "sum", "mean"),
                "branch")


def check_recipe(ops: object) -> None:
    """A recipe: a list starting with 'load', every step well formed."""
    if not isinstance(ops, list) or not ops or not isinstance(ops[0], dict) \
            or ops[0].get("op") != "load":
        raise ValidationError("a recipe is a list that starts with a 'load' operation naming "
                              "the model", "recipe")
    for position, op in enumerate(ops, start=1):
        check_operation(op, position)


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
