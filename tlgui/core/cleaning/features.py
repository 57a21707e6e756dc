"""The frozen body's features of every readable image of a data set, computed once (or read
from the feature cache): what ``clean`` and the embedding map both work on."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tlgui.core.data.data_index import DataIndex
from tlgui.core.data.image_check import usable
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import Experiment
from tlgui.core.train.compute import precision_for
from tlgui.core.train.devices import pick_device
from tlgui.core.train.feature_cache import CacheSplit, cache_key, compute_features, find_cut

SPLIT_NAMES = {"train": "train", "valid": "val", "test": "test"}


@dataclass
class DatasetFeatures:
    """Row ``i`` of ``values`` is the image ``paths[i]``, of class ``labels[i]`` in split
    ``splits[i]``; ``key`` names these features in the feature cache."""

    values: np.ndarray
    paths: list[str]
    labels: np.ndarray
    splits: list[str]
    split: CacheSplit
    key: str
    unreadable: dict[Path, str]


def dataset_features(experiment: Experiment, data: DataIndex, *,
                     cache_dir: str | Path | None = None, device: str = "auto",
                     say: Callable[[str], None] = lambda text: None,
                     progress: Callable[[int, int], None] = lambda done, total: None,
                     stopped: Callable[[], bool] = lambda: False,
                     what: str = "this check") -> DatasetFeatures:
    """The features of every readable image of every split, at the model's cache cut;
    raises one sentence when the model has no frozen body, or when ``stopped()``."""
    split, reason = find_cut(experiment.model)
    if split is None:
        raise TlguiError(f"{what} needs the model's features, and {reason}; freeze the "
                         "body (for example with the head-only preset)")
    files, bad = [], {}
    for key, name in SPLIT_NAMES.items():
        kept, bad_here = usable(data.splits.get(key, []), data.bad_files)
        files += [(path, label, name) for path, label in kept]
        bad |= bad_here
    if len(files) < 2:
        raise TlguiError(f"{data.root} has fewer than two readable images to compare")
    target = pick_device(device)
    pairs = [(path, label) for path, label, _ in files]
    dtype = precision_for(target, True).dtype
    say(f"computing the features of {len(files):,} images at '{split.cut}'")
    try:
        features, _ = compute_features(split, pairs, experiment.loaded.transform,
                                       device=target, cache_dir=cache_dir, amp_dtype=dtype,
                                       progress=progress, say=say, should_stop=stopped)
    except InterruptedError as exc:
        raise TlguiError(f"{what} was stopped") from exc
    keep = np.flatnonzero(features.ok)
    return DatasetFeatures(
        values=np.asarray(features.values)[keep],
        paths=[str(files[i][0]) for i in keep], labels=np.array([files[i][1] for i in keep]),
        splits=[files[i][2] for i in keep], split=split,
        key=cache_key(split, pairs, experiment.loaded.transform, dtype), unreadable=bad)
