"""What the data looks like to the network: the frozen body's features of every image laid
out in two dimensions (PCA always; UMAP or t-SNE when their packages are installed), with
each image's class, split and whether the model's head gets it right."""

import importlib.util
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tlgui.core.cleaning.features import dataset_features
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import NoMatchError, TlguiError
from tlgui.core.files import write_atomically
from tlgui.core.model.recipe import Experiment

# method -> (what it is called, the package it needs, or None)
METHODS = {"pca": ("PCA", None), "umap": ("UMAP", "umap"), "tsne": ("t-SNE", "sklearn")}
MAP_FILE = "map-{method}.npy"
_MEMORY: "OrderedDict[tuple[str, str], np.ndarray]" = OrderedDict()


def available_methods() -> list[str]:
    """The methods whose package is installed here (``pca`` always)."""
    return [m for m, (_, package) in METHODS.items()
            if package is None or importlib.util.find_spec(package) is not None]


@dataclass
class EmbeddingMap:
    """Point ``i`` at ``xy[i]`` is ``paths[i]``: class ``labels[i]``, split ``splits[i]``,
    predicted ``predicted[i]`` by the model's head on its features."""

    xy: np.ndarray
    paths: list[str]
    labels: np.ndarray
    predicted: np.ndarray
    splits: list[str]
    classes: list[str]
    method: str
    reused: bool = False

    @property
    def correct(self) -> np.ndarray:
        return self.labels == self.predicted


def project(values: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """N x 2 coordinates of N feature vectors (float32)."""
    values = np.asarray(values, dtype=np.float32).reshape(len(values), -1)
    if method == "pca":
        return _pca(values)
    if method not in available_methods():
        raise NoMatchError(f"the {METHODS.get(method, (method,))[0]} map needs a package that "
                           f"is not installed; install tlgui[map], or choose one of "
                           f"{', '.join(available_methods())}")
    start = project(values, "pca")  # both start from PCA, so the same seed gives the same map
    if method == "umap":
        import umap

        return umap.UMAP(random_state=seed, init=start).fit_transform(values).astype(np.float32)
    from sklearn.manifold import TSNE

    return TSNE(random_state=seed, init=start / max(1e-12, float(np.std(start[:, 0]))) * 1e-4
                ).fit_transform(values).astype(np.float32)


def _pca(values: np.ndarray) -> np.ndarray:
    """The projection on the two leading principal axes: subspace iteration on the D x D
    covariance (a full eigendecomposition of 1,280 x 1,280 costs seconds), signs fixed."""
    centred = values - values.mean(0)
    covariance = centred.T @ centred
    basis = np.random.default_rng(0).normal(size=(len(covariance), 8)).astype(np.float32)
    for _ in range(12):
        basis, _ = np.linalg.qr(covariance @ basis)
    small = basis.T @ covariance @ basis
    _, vectors = np.linalg.eigh(small.astype(np.float64))
    axes = basis @ vectors[:, ::-1][:, :2].astype(np.float32)
    axes *= np.where(axes.sum(0) < 0, -1, 1)
    return np.ascontiguousarray(centred @ axes)


def _read(path: Path, count: int) -> np.ndarray | None:
    """Stored coordinates, or None when missing, damaged or for other images."""
    try:
        xy = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return xy if xy.shape == (count, 2) and np.isfinite(xy).all() else None


def _write(temp: str, xy: np.ndarray) -> None:
    with open(temp, "wb") as handle:
        np.save(handle, xy)


def embedding_map(experiment: Experiment, data: DataIndex, *, method: str = "pca",
                  seed: int = 0, cache_dir: str | Path | None = None, device: str = "auto",
                  progress: Callable[[int, int], None] = lambda done, total: None,
                  stopped: Callable[[], bool] = lambda: False) -> EmbeddingMap:
    """The map of every readable image of ``data``; the coordinates are kept with the
    features (in memory, and beside them in ``cache_dir``) and reused while they hold."""
    found = dataset_features(experiment, data, cache_dir=cache_dir, device=device,
                             progress=progress, stopped=stopped, what="the embedding map")
    with torch.no_grad():
        head = found.split.head.eval()
        param = next(head.parameters(), None)
        inputs = torch.from_numpy(found.values).to(param.device if param is not None else "cpu")
        predicted = torch.cat([head(chunk).argmax(1).cpu() for chunk in inputs.split(4096)])
    stored = Path(cache_dir) / found.key / MAP_FILE.format(method=method) if cache_dir else None
    key = (found.key, f"{method}:{seed}")
    xy, reused = _MEMORY.get(key), True
    if xy is None and stored is not None:
        xy = _read(stored, len(found.paths))
    if xy is None:
        xy, reused = project(found.values, method, seed), False
        if stored is not None:
            write_atomically(stored, lambda temp: _write(temp, xy), TlguiError)
    _MEMORY[key] = xy
    while len(_MEMORY) > 4:
        _MEMORY.popitem(last=False)
    return EmbeddingMap(xy=xy, paths=found.paths, labels=found.labels,
                        predicted=predicted.numpy(), splits=found.splits,
                        classes=list(data.classes), method=method, reused=reused)


def inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which of N points (N x 2) lie inside a closed polygon (M x 2), by the even-odd rule."""
    x, y = points[:, 0], points[:, 1]
    result = np.zeros(len(points), dtype=bool)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        result ^= crosses & (x < at)
    return result
