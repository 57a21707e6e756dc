"""``clean``: every check over one data set, from the features of a head-only model's frozen
part (computed once, or read from the feature cache)."""

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tlgui.core.cleaning.label_issues import label_issues, out_of_fold_probabilities
from tlgui.core.cleaning.neighbours import NEAR, duplicate_groups, outlier_scores, outliers
from tlgui.core.data.data_index import DataIndex
from tlgui.core.data.image_check import find_bad_files
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import Experiment
from tlgui.core.train.compute import precision_for
from tlgui.core.train.devices import pick_device
from tlgui.core.train.feature_cache import compute_features, find_cut
from tlgui.core.train.train_events import StopToken

SPLIT_NAMES = {"train": "train", "valid": "val", "test": "test"}


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

    split, reason = find_cut(experiment.model)
    if split is None:
        raise TlguiError(f"cleaning needs the model's features, and {reason}; freeze the "
                         "body (for example with the head-only preset)")
    files = [(path, label, name) for key, name in SPLIT_NAMES.items()
             for path, label in data.splits.get(key, [])]
    bad = find_bad_files([path for path, _, _ in files])
    files = [f for f in files if f[0] not in bad]
    if len(files) < 2:
        raise TlguiError(f"{data.root} has fewer than two readable images to compare")
    target = pick_device(device)
    say(f"computing the features of {len(files):,} images at '{split.cut}'")
    try:
        features, _ = compute_features(
            split, [(path, label) for path, label, _ in files], experiment.loaded.transform,
            device=target, cache_dir=cache_dir, amp_dtype=precision_for(target, True).dtype,
            progress=lambda done, total: step("features", done, total), say=say,
            should_stop=lambda: stop.stopped)
    except InterruptedError as exc:
        raise TlguiError("the data check was stopped") from exc
    keep = np.flatnonzero(features.ok)
    values = np.asarray(features.values)[keep]
    paths = [str(files[i][0]) for i in keep]
    labels = np.array([files[i][1] for i in keep])
    splits = [files[i][2] for i in keep]
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
        "unreadable": {str(path): why for path, why in bad.items()},
        "settings": {"model": experiment.loaded.spec, "weights": experiment.loaded.weights,
                     "features_at": split.cut, "folds": folds, "seed": seed,
                     "near_duplicate_similarity": near, "images": len(paths),
                     "rule": "confident learning (off-diagonal of the confident joint), ranked "
                             "by self-confidence"},
        "seconds": round(time.perf_counter() - began, 2),
    }
