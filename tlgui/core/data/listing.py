"""Every file of a data set in one table, for browsing a million of them: path, label and
split by file number; the file numbers of a split, a class or a name; it grows while a
folder is still being scanned.

Columns, not objects: a folder number, a name, a label and a split code per file (about
100 bytes a file), in arrays with room to grow, so a batch added costs the batch and not
the million before it. Names are searched in lower-cased strings of ``SEARCH_PIECE`` names
each, made once: a filter over a million names costs tens of milliseconds, and a thread
searching never holds the interpreter for more than a few of them (a GUI thread waits on
it for no longer).
"""

import os
import re
from collections.abc import Sequence

import numpy as np

from tlgui.core.data.data_index import DataIndex
from tlgui.core.data.samples import Samples

SEPARATOR = "\0"  # no file name holds it
SEARCH_PIECE = 20_000  # names joined, lower-cased and searched at once: a few ms each


class Growing:
    """An integer column appended to in place; its room doubles when full."""

    def __init__(self, dtype: type) -> None:
        self._data = np.empty(1024, dtype)
        self.size = 0

    def append(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), self._data.dtype)
            grown[:self.size] = self._data[:self.size]
            self._data = grown  # a reader of the old array still sees its first `size`
        self._data[self.size:end] = values
        self.size = end

    @property
    def values(self) -> np.ndarray:
        return self._data[:self.size]


class Listing:
    """Files ``0 .. len-1``; ``splits`` names the split codes (None: not split yet)."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.split_names: list[str | None] = []
        self.folders: list[str] = []
        self._folder_number: dict[str, int] = {}
        self.names: list[str] = []
        self._columns = {"folder_of": Growing(np.int32), "labels": Growing(np.int32),
                         "splits": Growing(np.int8)}
        self._pieces: dict[int, tuple[str, np.ndarray]] = {}  # full pieces: (text, starts)

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

    @property
    def folder_of(self) -> np.ndarray:
        return self._columns["folder_of"].values

    @property
    def labels(self) -> np.ndarray:
        return self._columns["labels"].values

    @property
    def splits(self) -> np.ndarray:
        return self._columns["splits"].values

    def _append(self, folder_of: np.ndarray, labels: np.ndarray, split: str | None) -> None:
        """The columns of files whose names were just added."""
        columns = self._columns
        columns["folder_of"].append(folder_of)
        columns["labels"].append(labels)
        columns["splits"].append(np.full(len(labels), self._code(split), np.int8))

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
        self._append(np.full(count, self._folder(str(folder)), np.int32),
                     np.full(count, label, np.int32), split)
        self.names.extend(names)  # last: a reader takes len(self) files, every column has them

    def add_samples(self, split: str, samples: Samples) -> None:
        numbers = np.array([self._folder(f) for f in samples.folders], np.int32)
        self._append(numbers[samples.folder_of], samples.labels, split)
        self.names.extend(samples.names)

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
        needle = re.compile(re.escape(text.lower()))
        found = [np.empty(0, np.int64)]
        for first in range(0, files, SEARCH_PIECE):
            joined, starts = self._search_piece(first, min(first + SEARCH_PIECE, files))
            hits = np.fromiter((m.start() for m in needle.finditer(joined)), np.int64)
            found.append(first + np.unique(np.searchsorted(starts, hits, side="right") - 1))
        return np.concatenate(found)

    def _search_piece(self, first: int, last: int) -> tuple[str, np.ndarray]:
        """Names ``first .. last-1`` lower-cased and joined by NUL, and where each starts;
        a full piece is kept (names are only ever appended)."""
        piece = self._pieces.get(first)
        if piece is not None:
            return piece
        names = self.names[first:last]
        lowered = [name.lower() for name in names]  # not str.lower of the whole: letters grow
        lengths = np.fromiter(map(len, lowered), np.int64, count=len(lowered))
        piece = SEPARATOR.join(lowered), np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
        if last - first == SEARCH_PIECE:
            self._pieces[first] = piece  # one assignment: safe beside another reader
        return piece

    def sample(self, i: int) -> tuple[str, int, str | None]:
        return self.path(i), int(self.labels[i]), self.split(i)
