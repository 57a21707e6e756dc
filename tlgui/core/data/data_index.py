"""Indexing image folders without opening images: layouts, classes, splits.

Layouts: ``train/<class>/*`` with ``valid|val|validation/<class>/*`` (and optional
``test/<class>/*``); a single folder of ``<class>/*`` split stratified with a seed; or a
CSV of ``path,label`` rows.
"""

import csv
import hashlib
import heapq
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from tlgui.core.data.samples import Samples, labels_of, path_strings
from tlgui.core.errors import TlguiError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
                            ".ppm", ".pgm"})
VALID_NAMES = ("valid", "val", "validation")


class DataError(TlguiError):
    """A folder or CSV that is not a usable image data set."""


@dataclass
class DataIndex:
    """Files and integer labels per split; ``classes`` gives the label names."""

    root: Path
    layout: str  # "folders", "split" or "csv"
    classes: list[str]
    splits: dict[str, Sequence[tuple[Path, int]]] = field(default_factory=dict)  # or Samples
    warnings: list[str] = field(default_factory=list)
    split_ratio: float | None = None  # layout "split": the held-out share and its seed
    seed: int | None = None
    corrected: dict = field(default_factory=dict)  # the user's corrections applied, if any
    # path -> why unusable, from a header check of every file (the Dataset dock's); None
    # until one has finished. Training and evaluation skip these without opening a file.
    bad_files: dict[str, str] | None = None

    def fingerprint(self) -> str:
        """SHA-256 of every (split, file, class) triple: two indexes with the same
        fingerprint hold the same files in the same splits with the same labels."""
        digest = hashlib.sha256()
        for split in sorted(self.splits):
            samples = self.splits[split]
            for path, label in zip(path_strings(samples), labels_of(samples).tolist(),
                                   strict=True):
                digest.update(f"{split}\0{path}\0{self.classes[label]}\n".encode(
                    "utf-8", "surrogateescape"))
        return digest.hexdigest()

    def counts(self) -> dict[str, dict[str, int]]:
        """Per split, the number of files per class name."""
        out = {}
        for split, samples in self.splits.items():
            per_label = np.bincount(labels_of(samples), minlength=len(self.classes))
            out[split] = dict(zip(self.classes, per_label.tolist(), strict=True))
        return out

    def as_dict(self) -> dict:
        return {"root": str(self.root), "layout": self.layout, "classes": self.classes,
                "counts": self.counts(), "warnings": self.warnings}


def base_folder(index: DataIndex) -> Path:
    """The folder the index's files are named relative to: the data folder, or a CSV's."""
    return index.root if index.layout != "csv" else index.root.parent


def _is(entry: os.DirEntry, kind: str) -> bool:
    """``entry.is_dir()``/``is_file()``, False for what cannot be followed (symlink loops)."""
    try:
        return entry.is_dir() if kind == "dir" else entry.is_file()
    except OSError:
        return False


def _class_dirs(folder: Path) -> dict[str, str]:
    """Class name -> folder, for the sub-folders of ``folder`` (hidden ones left out)."""
    with os.scandir(folder) as entries:
        return {e.name: e.path for e in sorted(entries, key=lambda e: e.name)
                if _is(e, "dir") and not e.name.startswith(".")}


# (classes, split or None before a single folder is split, label, folder, names as found)
Found = Callable[[list[str], str | None, int, str, list[str]], None]
FIRST_BATCH, LARGEST_BATCH = 500, 100_000  # what a listener hears: batches doubling in size
SORT_PIECE = 10_000  # names sorted at once: the GIL is held 2 ms, not 200 for 500,000


def _sorted(names: list[str]) -> list[str]:
    """``sorted(names)``, in pieces merged in Python, so a GUI thread beside it never waits
    long for the interpreter."""
    if len(names) <= SORT_PIECE:
        return sorted(names)
    return list(heapq.merge(*(sorted(names[i:i + SORT_PIECE])
                              for i in range(0, len(names), SORT_PIECE))))


def _image_names(folder: str, tell: Callable[[list[str]], None] | None) -> list[str]:
    """The image files' names in ``folder``, sorted; ``tell`` hears them in batches as the
    listing goes (in the order the file system gives them)."""
    names: list[str] = []
    told, batch = 0, FIRST_BATCH
    with os.scandir(folder) as files:
        for entry in files:
            if os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES and _is(entry, "file"):
                names.append(entry.name)
                if tell is not None and len(names) - told >= batch:
                    tell(names[told:])
                    told, batch = len(names), min(2 * batch, LARGEST_BATCH)
    if tell is not None and len(names) > told:
        tell(names[told:])
    return _sorted(names)


def _scan(split: str | None, class_dirs: dict[str, str], classes: list[str],
          found: Found | None, should_stop: Callable[[], bool]) -> list[tuple[str, list[str], int]]:
    """(folder, sorted names, label) per class folder of one split."""
    out = []
    for name, folder in class_dirs.items():
        if should_stop():
            raise InterruptedError("indexing stopped")
        label = classes.index(name)
        tell = None if found is None else partial(found, classes, split, label, folder)
        out.append((folder, _image_names(folder, tell), label))
    return out


def _find_split_dir(root: Path, names: tuple[str, ...]) -> Path | None:
    return next((root / n for n in names if (root / n).is_dir()), None)


def _never() -> bool:
    return False


def index_folder(root: str | Path, *, split_ratio: float = 0.2, seed: int = 0,
                 found: Found | None = None,
                 should_stop: Callable[[], bool] = _never) -> DataIndex:
    """Index an image folder or a CSV. A single ``<class>/`` folder is split stratified:
    ``split_ratio`` of each class goes to ``valid`` (chosen with ``seed``). ``found`` hears
    the files in batches while the folders are listed (a browser shows them at once);
    ``should_stop`` ends the scan with InterruptedError."""
    root = Path(root)
    if root.is_file() and root.suffix.lower() == ".csv":
        return _index_csv(root)
    if root.is_file():
        raise DataError(f"{root} is a file; give the folder that holds the class folders "
                        "(or train/ and val/), or a CSV of path,label rows")
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}")
    train_dir = _find_split_dir(root, ("train",))
    if train_dir is None:
        return _index_single(root, split_ratio, seed, found, should_stop)
    split_dirs = {"train": train_dir, "valid": _find_split_dir(root, VALID_NAMES),
                  "test": _find_split_dir(root, ("test",))}
    dirs = {split: _class_dirs(d) for split, d in split_dirs.items() if d is not None}
    classes = sorted(set().union(*dirs.values()))
    index = DataIndex(root=root, layout="folders", classes=classes)
    for split, class_dirs in dirs.items():
        missing = [c for c in classes if c not in class_dirs]
        if missing:
            index.warnings.append(f"{split}/ has no folder for class(es): {', '.join(missing)}")
        index.splits[split] = Samples.of_folders(
            _scan(split, class_dirs, classes, found, should_stop))
    if "valid" not in dirs:
        index.warnings.append("no valid/, val/ or validation/ folder: nothing to validate on")
    _check(index)
    return index


def _index_single(root: Path, ratio: float, seed: int, found: Found | None,
                  should_stop: Callable[[], bool]) -> DataIndex:
    if not 0 < ratio < 1:  # also false for nan
        raise DataError(f"the split ratio must be between 0 and 1, not {ratio}")
    class_dirs = _class_dirs(root)
    if not class_dirs:
        raise DataError(
            f"{root} has neither train/ and val/ folders nor class folders; lay it out as "
            "train/<class>/*.jpg and val/<class>/*.jpg, or <class>/*.jpg to split"
        )
    classes = list(class_dirs)
    rng = random.Random(seed)
    index = DataIndex(root=root, layout="split", classes=classes, split_ratio=ratio, seed=seed)
    held_out, kept = [], []
    for folder, names, label in _scan(None, class_dirs, classes, found, should_stop):
        shuffled = list(names)
        rng.shuffle(shuffled)
        held = round(len(shuffled) * ratio)
        held_out.append((folder, _sorted(shuffled[:held]), label))
        kept.append((folder, _sorted(shuffled[held:]), label))
    index.splits = {"train": Samples.of_folders(kept), "valid": Samples.of_folders(held_out)}
    _check(index)
    return index


def _index_csv(path: Path) -> DataIndex:
    """Rows ``path,label[,split]``; a row without a label is refused with its line number,
    and rows naming files that do not exist are reported with theirs."""
    rows: list[tuple[Path, str, str]] = []
    missing: list[str] = []
    with path.open(newline="", errors="replace") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].startswith("#") or (number == 1 and row[0].lower() == "path"):
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                what = "file" if len(row) < 1 or not row[0].strip() else "label"
                raise DataError(f"{path}, line {number}: the row has no {what} (rows are "
                                f"path,label[,split])")
            split = row[2].strip() if len(row) > 2 and row[2].strip() else "train"
            file = path.parent / row[0].strip()
            if not file.is_file():
                missing.append(f"line {number}: {row[0].strip()}")
            rows.append((file, row[1].strip(), split))
    if missing:
        shown = "; ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise DataError(f"{path}: {len(missing)} row(s) name files that do not exist ({shown})")
    classes = sorted({label for _, label, _ in rows})
    index = DataIndex(root=path, layout="csv", classes=classes)
    for file, label, split in rows:
        split = "valid" if split in VALID_NAMES else split
        index.splits.setdefault(split, []).append((file, classes.index(label)))
    _check(index)
    return index


def _check(index: DataIndex) -> None:
    if not index.classes:
        raise DataError(f"{index.root}: no classes found")
    if not index.splits.get("train"):
        raise DataError(f"{index.root}: no training images found")
    for split, counts in index.counts().items():
        total = sum(counts.values())
        for name, count in counts.items():
            if total and count < max(2, 0.02 * total):
                index.warnings.append(f"{split}/{name} is nearly empty ({count} of {total} images)")


def image_paths(items: list[str]) -> list[Path]:
    """Files as given; folders expand to their image files (recursively, sorted)."""
    out: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                          and p.is_file())
        else:
            out.append(path)
    return out
