"""``clean``: every check over one data set, from the features of a head-only model's frozen
part (computed once, or read from the feature cache)."""

import time
from collections.abc import Callable
from pathlib import Path

from tlgui.core.cleaning.features import dataset_features
from tlgui.core.cleaning.label_issues import label_issues, out_of_fold_probabilities
from tlgui.core.cleaning.neighbours import NEAR, duplicate_groups, outlier_scores, outliers
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import Experiment
from tlgui.core.train.train_events import StopToken


def clean(experiment: Experiment, data: DataIndex, *, folds: int = 5, seed: int = 0,
          near: float = NEAR, cache_dir: str | Path | None = None, device: str = "auto",
          say: Callable[[str], None] = lambda text: None,
          progress: Callable[[str, int, int], None] = lambda what, done, total: None,
          stop: StopToken | None = None) -> dict:
    """Label issues, duplicates (leaks across splits first) and outliers of ``data``, as
    the JSON document ``tlgui clean --json`` prints. Reads the user's files, never writes
    them. ``stop`` ends the check early with an error."""
    began = time.perf_counter()
    stop = stop or StopToken()

    def step(what: str, done: int, total: int) -> None:
        if stop.stopped:
            raise TlguiError("the data check was stopped")
        progress(what, done, total)

    found = dataset_features(experiment, data, cache_dir=cache_dir, device=device, say=say,
                             progress=lambda done, total: step("features", done, total),
                             stopped=lambda: stop.stopped, what="the data check")
    values, paths, labels, splits = found.values, found.paths, found.labels, found.splits
    names = list(data.classes)
    probabilities = out_of_fold_probabilities(
        values, labels, len(names), folds=folds, seed=seed,
        progress=lambda done, total: step("label check", done, total))
    issues = [issue.as_dict(paths, names) for issue in label_issues(probabilities, labels)]
    groups = duplicate_groups([Path(p) for p in paths], values, near=near,
                              progress=lambda done, total: step("duplicates", done, total))
    groups.sort(key=lambda g: (len(g.splits(splits)) == 1, -g.similarity))  # leaks first
    scores = outlier_scores(values, exclude=[g.members for g in groups])
    return {
        "label_issues": issues,
        "duplicates": [{"paths": [paths[i] for i in g.members], "similarity": g.similarity,
                        "splits": g.splits(splits), "leak": len(g.splits(splits)) > 1}
                       for g in groups],
        "outliers": [{"path": paths[i], "score": round(float(scores[i]), 4)}
                     for i in outliers(scores)],
        "unreadable": {str(path): why for path, why in found.unreadable.items()},
        "settings": {"model": experiment.loaded.spec, "weights": experiment.loaded.weights,
                     "features_at": found.split.cut, "folds": folds, "seed": seed,
                     "near_duplicate_similarity": near, "images": len(paths),
                     "rule": "confident learning (off-diagonal of the confident joint), ranked "
                             "by self-confidence"},
        "seconds": round(time.perf_counter() - began, 2),
    }
