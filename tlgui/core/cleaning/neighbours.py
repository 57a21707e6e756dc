"""Duplicates (the same bytes, or near-identical features: resized, recompressed or lightly
cropped copies), leaks (duplicates in different splits) and outliers (far from every other
image), by blocked products of L2-normalised feature vectors: memory stays at one block of
``BLOCK`` rows against all vectors, so 100,000 images need no index library."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

BLOCK = 2048
# cosine similarity of centred features from which two images count as copies: on the
# ants/bees photos a 5% crop or a half-size recompressed copy scores 0.83 to 0.88 against
# its original, the most similar two different photos 0.67 to 0.72
NEAR = 0.8
NEIGHBOURS = 5


@dataclass
class Group:
    members: list[int]
    similarity: float  # the lowest similarity that joined the group (1.0: the same bytes)

    def splits(self, splits: list[str]) -> list[str]:
        return sorted({splits[i] for i in self.members})


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def normalised(features: np.ndarray, centred: bool) -> torch.Tensor:
    """Unit vectors; ``centred``: after subtracting the data set's mean vector. Pooled
    activations are all positive, so raw cosines of two unrelated photos sit near 0.8:
    copies are told apart only after centring. Outliers are the other way round: a blank
    frame has weak activations everywhere, near the mean, and stands out only uncentred."""
    x = torch.as_tensor(features, dtype=torch.float32).flatten(1)
    if centred:
        x = x - x.mean(0)
    return x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)


def duplicate_groups(paths: list[Path], features: np.ndarray, *, near: float = NEAR,
                     progress: Callable[[int, int], None] = lambda done, total: None
                     ) -> list[Group]:
    """Groups of two or more images that are copies of each other."""
    parent = list(range(len(paths)))
    lowest: dict[int, float] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int, similarity: float) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra
        r = root(a)
        lowest[r] = min(lowest.get(ra, 1.0), lowest.get(rb, 1.0), similarity)

    by_hash: dict[str, int] = {}
    for i, path in enumerate(paths):
        first = by_hash.setdefault(content_hash(path), i)
        if first != i:
            join(first, i, 1.0)
    x = normalised(features, centred=True)
    for start in range(0, len(x), BLOCK):
        similar = x[start:start + BLOCK] @ x.T
        rows, cols = torch.nonzero(similar >= near, as_tuple=True)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            if start + row < col:
                join(start + row, col, float(similar[row, col]))
        progress(min(start + BLOCK, len(x)), len(x))
    groups: dict[int, list[int]] = {}
    for i in range(len(paths)):
        groups.setdefault(root(i), []).append(i)
    return [Group(members, round(lowest.get(r, 1.0), 4)) for r, members in groups.items()
            if len(members) > 1]


def outlier_scores(features: np.ndarray, exclude: list[list[int]] = (),
                   neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Each image's mean cosine distance to its ``neighbours`` nearest other images (copies
    in ``exclude`` groups do not count as neighbours of each other)."""
    x = normalised(features, centred=False)
    k = min(neighbours, len(x) - 1)
    if k < 1:
        return np.zeros(len(x), dtype=np.float32)
    twins = {i: members for members in exclude for i in members}
    scores = np.zeros(len(x), dtype=np.float32)
    for start in range(0, len(x), BLOCK):
        similar = x[start:start + BLOCK] @ x.T
        rows = torch.arange(len(similar))
        similar[rows, rows + start] = -2.0  # an image is not its own neighbour
        for i in (i for i in twins if start <= i < start + len(similar)):
            similar[i - start, twins[i]] = -2.0  # nor are its copies
        nearest = similar.topk(k, dim=1).values
        scores[start:start + len(similar)] = (1 - nearest).mean(1).numpy()
    return scores


def outliers(scores: np.ndarray, spread: float = 4.0) -> list[int]:
    """Images whose score lies more than ``spread`` robust deviations (median absolute
    deviation, scaled to a normal's) above the median; the farthest first."""
    median = float(np.median(scores))
    deviation = 1.4826 * float(np.median(np.abs(scores - median))) or 1e-9
    far = np.flatnonzero(scores > median + spread * deviation)
    return sorted(far.tolist(), key=lambda i: -scores[i])
