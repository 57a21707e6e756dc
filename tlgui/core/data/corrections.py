"""The user's corrections to a data set, kept beside it and never in it: relabels and
exclusions by file, applied when an index is used (training, evaluation, the Dataset dock).

Files are named relative to the data set's folder, so a project that moves with its data
keeps its corrections. Every decision is one undoable step. The user's files are never
moved, renamed or deleted: a cleaned data set leaves tlgui as a CSV of ``path,label,split``
rows (:func:`write_csv`), which ``tlgui train --data`` reads.
"""

import csv
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from tlgui.core.data.data_index import DataIndex, base_folder
from tlgui.core.errors import TlguiError
from tlgui.core.files import write_text_atomically

ACTIONS = ("relabel", "exclude", "keep")  # keep: reviewed, left as it is


@dataclass
class Corrections:
    """Decisions per file of the data set at ``root``: ``{"action": ..., "label": ...}``."""

    root: str = ""
    decisions: dict[str, dict] = field(default_factory=dict)
    _done: list[list[tuple[str, dict | None, dict | None]]] = field(default_factory=list,
                                                                    repr=False)
    _undone: list[list[tuple[str, dict | None, dict | None]]] = field(default_factory=list,
                                                                      repr=False)

    def covers(self, index: DataIndex) -> bool:
        """Whether these are corrections to ``index``'s data set."""
        return bool(self.root) and Path(self.root).resolve() == Path(index.root).resolve()

    def key(self, index: DataIndex, path: str | Path) -> str:
        return Path(os.path.relpath(path, base_folder(index))).as_posix()

    def decision(self, index: DataIndex, path: str | Path) -> dict | None:
        return self.decisions.get(self.key(index, path)) if self.covers(index) else None

    def decide(self, index: DataIndex, paths: list[str | Path], action: str,
               label: str | None = None) -> None:
        """Record ``action`` for every file of ``paths`` as one undo step; ``label`` names
        the new class of a relabel and must be one of ``index.classes``."""
        if action not in ACTIONS:
            raise ValueError(f"unknown correction '{action}'; known: {', '.join(ACTIONS)}")
        if action == "relabel" and label not in index.classes:
            raise TlguiError(f"cannot relabel as '{label}': the data set's classes are "
                             f"{', '.join(index.classes)}")
        if self.root and not self.covers(index):
            raise TlguiError(f"these corrections are for {self.root}, not {index.root}")
        self.root = str(index.root)
        new = {"action": action, **({"label": label} if action == "relabel" else {})}
        step = [(key, self.decisions.get(key), new) for key in
                dict.fromkeys(self.key(index, path) for path in paths)]
        self._redo(step)
        self._done.append(step)
        self._undone.clear()

    def undo(self) -> list[str]:
        """Take the last step back; returns the files it was about (none: nothing to undo)."""
        if not self._done:
            return []
        step = self._done.pop()
        for key, old, _new in step:
            self._set(key, old)
        self._undone.append(step)
        return [key for key, _, _ in step]

    def redo(self) -> list[str]:
        if not self._undone:
            return []
        step = self._undone.pop()
        self._redo(step)
        self._done.append(step)
        return [key for key, _, _ in step]

    def can_undo(self) -> bool:
        return bool(self._done)

    def _redo(self, step: list[tuple[str, dict | None, dict | None]]) -> None:
        for key, _old, new in step:
            self._set(key, new)

    def _set(self, key: str, value: dict | None) -> None:
        if value is None:
            self.decisions.pop(key, None)
        else:
            self.decisions[key] = value

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(ACTIONS, 0)
        for decision in self.decisions.values():
            out[decision["action"]] += 1
        return out

    def apply(self, index: DataIndex) -> DataIndex:
        """``index`` with the relabels and exclusions applied (``index`` itself when none
        concern it); the result records what was applied in ``corrected``."""
        changes = {k: d for k, d in self.decisions.items() if d["action"] != "keep"}
        if not changes or not self.covers(index):
            return index
        base = base_folder(index)
        by_path = {os.path.normpath(base / key): d for key, d in changes.items()}
        splits = {}
        for split, samples in index.splits.items():
            kept = []
            for path, label in samples:
                decision = by_path.get(os.path.normpath(path))
                if decision is None:
                    kept.append((path, label))
                elif decision["action"] == "relabel":
                    kept.append((path, index.classes.index(decision["label"])))
            splits[split] = kept
        return replace(index, splits=splits, warnings=list(index.warnings),
                       corrected=self.as_dict())

    def as_dict(self) -> dict:
        return {"root": self.root, "decisions": dict(sorted(self.decisions.items()))}

    @classmethod
    def from_dict(cls, doc: object) -> "Corrections":
        """Corrections from :meth:`as_dict`'s form; damaged entries are refused."""
        if not doc:
            return cls()
        try:
            decisions = {str(k): {"action": d["action"], **({"label": str(d["label"])}
                                                            if d["action"] == "relabel" else {})}
                         for k, d in doc["decisions"].items()}
            if any(d["action"] not in ACTIONS for d in decisions.values()):
                raise ValueError
            return cls(root=str(doc["root"]), decisions=decisions)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TlguiError("the data corrections saved with this project are damaged") from exc


def csv_text(index: DataIndex) -> str:
    """``index`` as ``path,label,split`` rows with absolute paths."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "label", "split"])
    for split, samples in index.splits.items():
        for path, label in samples:
            writer.writerow([str(Path(path).resolve()), index.classes[label], split])
    return out.getvalue()


def write_csv(index: DataIndex, path: str | Path) -> Path:
    """Write ``index`` (usually corrected) as a CSV that ``tlgui train --data`` reads."""
    return write_text_atomically(Path(path), csv_text(index))
