"""Every file of a data set in one table, for browsing a million of them: path, label and
split by file number; the file numbers of a split, a class or a name; it grows while a
folder is still being scanned.

Columns, not objects: a folder number, a name, a label and a split code per file (about
100 bytes a file). Names are searched in one lower-cased string, so a filter over a
million names costs tens of milliseconds (and runs off the GUI thread anyway).
"""

import os
import re
from collections.abc import Sequence

import numpy as np

from tlgui.core.data.data_index import DataIndex
from tlgui.core.data.samples import Samples

SEPARATOR = "\0"  # no file name holds it


class Listing:
    """Files ``0 .. len-1``; ``splits`` names the split codes (None: not split yet)."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.split_names: list[str | None] = []
        self.folders: list[str] = []
        self._folder_number: dict[str, int] = {}
        self.names: list[str] = []
        self.folder_of = np.empty(0, np.int32)
        self.labels = np.empty(0, np.int32)
        self.splits = np.empty(0, np.int8)
        self._text: tuple[int, str, np.ndarray] | None = None  # (files, text, starts)

    @classmethod
    def of_index(cls, index: DataIndex) -> "Listing":
        listing = cls(index.classes)
        for split, samples in index.splits.items():
            if isinstance(samples, Samples):
                listing.add_samples(split, samples)
            else:
                for path, label in samples:
                    listing.add(split, label, os.path.dirname(path), [os.path.basename(path)])
        return listing

    def __len__(self) -> int:
        return len(self.names)

    def _code(self, split: str | None) -> int:
        if split not in self.split_names:
            self.split_names.append(split)
        return self.split_names.index(split)

    def _folder(self, folder: str) -> int:
        number = self._folder_number.get(folder)
        if number is None:
            number = self._folder_number[folder] = len(self.folders)
            self.folders.append(folder)
        return number

    def add(self, split: str | None, label: int, folder: str, names: list[str]) -> None:
        """Files named ``names`` in ``folder``, of class ``label``, appended."""
        count = len(names)
        self.names.extend(names)
        self.folder_of = np.concatenate([self.folder_of,
                                         np.full(count, self._folder(str(folder)), np.int32)])
        self.labels = np.concatenate([self.labels, np.full(count, label, np.int32)])
        self.splits = np.concatenate([self.splits, np.full(count, self._code(split), np.int8)])

    def add_samples(self, split: str, samples: Samples) -> None:
        numbers = np.array([self._folder(f) for f in samples.folders], np.int32)
        self.names.extend(samples.names)
        self.folder_of = np.concatenate([self.folder_of, numbers[samples.folder_of]])
        self.labels = np.concatenate([self.labels, samples.labels])
        self.splits = np.concatenate(
            [self.splits, np.full(len(samples), self._code(split), np.int8)])

    def path(self, i: int) -> str:
        return os.path.join(self.folders[self.folder_of[i]], self.names[i])

    def split(self, i: int) -> str | None:
        return self.split_names[self.splits[i]]

    def counts(self) -> dict[str | None, dict[str, int]]:
        """Per split, files per class name (while scanning: so far)."""
        out = {}
        for code, split in enumerate(self.split_names):
            per_label = np.bincount(self.labels[self.splits == code], minlength=len(self.classes))
            out[split] = dict(zip(self.classes, per_label.tolist(), strict=True))
        return out

    def select(self, split: str = "", class_name: str = "", text: str = "",
               only: set[str] | None = None, files: int | None = None) -> np.ndarray:
        """File numbers, ascending, of ``split`` and ``class_name`` ("" for any) whose name
        holds ``text`` (any case) and whose path is in ``only`` when given; of the first
        ``files`` files only (what a caller on another thread has seen)."""
        files = len(self) if files is None else files
        keep = np.ones(files, bool)
        if split:
            keep &= self.splits[:files] == (self.split_names.index(split)
                                            if split in self.split_names else -1)
        if class_name:
            keep &= self.labels[:files] == (self.classes.index(class_name)
                                            if class_name in self.classes else -1)
        rows = np.flatnonzero(keep)
        if text:
            rows = np.intersect1d(rows, self.named(text, files), assume_unique=True)
        if only is not None:
            rows = rows[np.fromiter((self.path(i) in only for i in rows.tolist()), bool,
                                    count=len(rows))]
        return rows

    def named(self, text: str, files: int) -> np.ndarray:
        """File numbers among the first ``files`` whose name holds ``text``, any case."""
        searched, joined, starts = self._search_text(files)
        needle = re.escape(text.lower())
        found = np.fromiter((m.start() for m in re.finditer(needle, joined)), np.int64)
        return np.unique(np.searchsorted(starts, found, side="right") - 1)

    def _search_text(self, files: int) -> tuple[int, str, np.ndarray]:
        """The first ``files`` names lower-cased, joined by NUL, and where each starts."""
        if self._text is None or self._text[0] != files:
            names = self.names[:files]
            joined = SEPARATOR.join(names).lower()
            lengths = np.fromiter(map(len, names), np.int64, count=files)
            if len(joined) != int(lengths.sum()) + max(files - 1, 0):  # a letter that grows
                lowered = [name.lower() for name in names]
                joined = SEPARATOR.join(lowered)
                lengths = np.fromiter(map(len, lowered), np.int64, count=files)
            starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]) if files else lengths
            self._text = (files, joined, starts)
        return self._text

    def sample(self, i: int) -> tuple[str, int, str | None]:
        return self.path(i), int(self.labels[i]), self.split(i)
