"""One place that checks settings, recipes and data sets before any work starts.

Each check raises :class:`~tlgui.core.errors.ValidationError` with one plain sentence that
names the value and what is allowed; ``field`` says which setting it was.
"""

from tlgui.core.config import (
    BRANCH_INITS,
    BRANCH_MERGES,
    MAX_SEED,
    check_choice,
    check_number,
)
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import ValidationError


def check_split_ratio(ratio: float) -> None:
    check_number(ratio, "the split ratio", low=0, high=0.95, low_open=True, field="split_ratio")


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


def check_num_classes(value: object, name: str = "the number of classes") -> None:
    check_number(value, name, low=1, high=1_000_000, integer=True, field="num_classes")


def check_topk(value: object) -> None:
    check_number(value, "top-k", low=1, high=100_000, integer=True, field="topk")


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
        check_number(op.get("seed", 0), "the recipe's seed", low=0, high=MAX_SEED, integer=True,
                field="seed")
        if op.get("input_size") is not None:
            parse_input_size("x".join(str(n) for n in op["input_size"]))
    if op["op"] == "branch":
        check_choice(op.get("init", "copy"), "the branch's init", BRANCH_INITS, "branch")
        check_choice(op.get("merge", "concat"), "the branch's merge", BRANCH_MERGES,
                "branch")


def check_recipe(ops: object) -> None:
    """A recipe: a list starting with 'load', every step well formed."""
    if not isinstance(ops, list) or not ops or not isinstance(ops[0], dict) \
            or ops[0].get("op") != "load":
        raise ValidationError("a recipe is a list that starts with a 'load' operation naming "
                              "the model", "recipe")
    for position, op in enumerate(ops, start=1):
        check_operation(op, position)
