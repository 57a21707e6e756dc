"""One finding of ``clean`` in the review: the files a decision is about, the
images shown beside it, and what "accept" means for it (Qt-free)."""

import os
from dataclasses import dataclass
from pathlib import Path

from tlgui.core.data.data_index import DataIndex

KINDS = ("label_issues", "duplicates", "outliers")
TITLES = {"label_issues": "Label issues", "duplicates": "Copies and leaks",
          "outliers": "Outliers"}
EXAMPLES = 3  # images of a class shown beside a finding


@dataclass
class Finding:
    kind: str  # one of KINDS
    doc: dict  # the entry of clean()'s report

    @property
    def paths(self) -> list[str]:
        return list(self.doc["paths"]) if self.kind == "duplicates" else [self.doc["path"]]

    def targets(self, index: DataIndex) -> list[str]:
        """The files a decision changes: the finding's file, or every copy but the one kept
        (the first in the training split, else the first)."""
        if self.kind != "duplicates":
            return self.paths
        split_of = {str(p): s for s, samples in index.splits.items() for p, _ in samples}
        keep = next((p for p in self.paths if split_of.get(p) == "train"), self.paths[0])
        return [p for p in self.paths if p != keep]

    def accept(self) -> tuple[str, str | None, str]:
        """(action, label, button text) of accepting the suggestion."""
        if self.kind == "label_issues":
            return "relabel", self.doc["suggested"], f"Relabel as {self.doc['suggested']}"
        if self.kind == "duplicates":
            return "exclude", None, "Exclude the copies"
        return "exclude", None, "Exclude it"

    def text(self, base: Path) -> str:
        """One line for a list; files named relative to ``base``."""
        doc, name = self.doc, lambda path: os.path.relpath(path, base)
        if self.kind == "label_issues":
            return f"{doc['score']:.2f}  {doc['given']} → {doc['suggested']}  {name(doc['path'])}"
        if self.kind == "duplicates":
            leak = "LEAK " if doc["leak"] else ""
            return (f"{leak}{doc['similarity']:.3f} [{', '.join(doc['splits'])}]  "
                    + "  ".join(name(p) for p in doc["paths"]))
        return f"{doc['score']:.3f}  {name(doc['path'])}"

    def title(self) -> str:
        doc = self.doc
        if self.kind == "label_issues":
            return (f"labelled {doc['given']}, looks like {doc['suggested']} "
                    f"(score {doc['score']:.2f})")
        if self.kind == "duplicates":
            where = "a leak between " if doc["leak"] else "copies in "
            return (f"{len(doc['paths'])} copies, {where}{' and '.join(doc['splits'])} "
                    f"(similarity {doc['similarity']:.3f})")
        return f"far from every class (score {doc['score']:.3f})"

    def classes_shown(self, index: DataIndex) -> list[tuple[str, str]]:
        """(caption, class) rows of examples to show beside the finding."""
        if self.kind == "label_issues":
            return [(f"labelled {self.doc['given']}:", self.doc["given"]),
                    (f"looks like {self.doc['suggested']}:", self.doc["suggested"])]
        if self.kind == "outliers":
            label = label_of(index, self.doc["path"])
            return [(f"its class, {label}:", label)] if label else []
        return []


def label_of(index: DataIndex, path: str) -> str | None:
    for samples in index.splits.values():
        for file, label in samples:
            if str(file) == path:
                return index.classes[label]
    return None


def examples(index: DataIndex, name: str, leave_out: list[str], count: int = EXAMPLES
             ) -> list[str]:
    """``count`` training images of class ``name``, spread over the class, none of
    ``leave_out``."""
    label = index.classes.index(name)
    files = [str(p) for p, y in index.splits.get("train", []) if y == label
             and str(p) not in leave_out]
    if len(files) <= count:
        return files
    return [files[i * len(files) // count] for i in range(count)]


def findings(report: dict) -> dict[str, list[Finding]]:
    return {kind: [Finding(kind, doc) for doc in report[kind]] for kind in KINDS}
