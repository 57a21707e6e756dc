"""Feature caching: compute the frozen front of a network once per image, train the rest.

A cut is a node of the traced graph such that every trainable tensor is used after it and
everything after it depends on the network's input only through it. The network is split
there into a ``prefix`` (input -> features) and a ``head`` (features -> output); both share
the model's own modules, so training the head trains the model.
"""

import hashlib
import json
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import fx, nn

from tlgui.core.data.datasets import ImageFiles, make_loader
from tlgui.core.data.samples import labels_of, path_strings
from tlgui.core.errors import SurgeryError
from tlgui.core.model.graph import ancestors, descendants, trace
from tlgui.core.model.snapshots import tensor_sha256


@dataclass
class CacheSplit:
    cut: str
    prefix: fx.GraphModule
    head: fx.GraphModule


def _stochastic(module: nn.Module) -> bool:
    rate = getattr(module, "p", None) if isinstance(module, nn.modules.dropout._DropoutNd) \
        else getattr(module, "drop_prob", None)
    return bool(rate)


def find_cut(model: nn.Module) -> tuple[CacheSplit | None, str]:
    """The latest cut with every trainable tensor after it, and a reason when there is none."""
    try:
        traced = trace(model)
    except SurgeryError as exc:
        return None, f"the model cannot be traced, so nothing is cached ({exc})"
    gm = traced.module
    nodes = [n for n in gm.graph.nodes if n.op not in ("output", "get_attr")]
    trainable_calls = {n for n in nodes if n.op == "call_module" and
                       any(p.requires_grad for p in gm.get_submodule(n.target).parameters())}
    trainable_attrs = {n for n in gm.graph.nodes if n.op == "get_attr" and
                       getattr(_attr(gm, n.target), "requires_grad", False)}
    best = None
    for cut in nodes:
        if cut.op == "call_module" and _stochastic(gm.get_submodule(cut.target)):
            break  # a cut at or after dropout would freeze its randomness into the cache
        after = descendants(cut)
        if not trainable_calls <= after or any(u not in after for a in trainable_attrs
                                               for u in a.users):
            break  # later cuts would leave a trainable layer in front
        if all(i is cut or i in after or i.op == "get_attr"
               for n in after for i in n.all_input_nodes):
            best = cut
    if best is None or best.op == "placeholder":
        return None, "a trainable or random (dropout) layer comes first, so nothing is cached"
    name = traced.name_of(best)
    return CacheSplit(cut=name, prefix=_prefix(gm, best), head=_head(gm, best)), ""


def _attr(gm: nn.Module, target: str):
    owner, _, attr = target.rpartition(".")
    return getattr(gm.get_submodule(owner) if owner else gm, attr)


def _prefix(gm: fx.GraphModule, cut: fx.Node) -> fx.GraphModule:
    keep = ancestors(cut) | {cut}
    graph, env = fx.Graph(), {}
    for node in gm.graph.nodes:
        if node in keep:
            env[node] = graph.node_copy(node, lambda a: env[a])
    graph.output(env[cut])
    return fx.GraphModule(gm, graph, class_name="FrozenPrefix")


def _head(gm: fx.GraphModule, cut: fx.Node) -> fx.GraphModule:
    after = descendants(cut)
    graph = fx.Graph()
    env = {cut: graph.placeholder("features")}
    for node in gm.graph.nodes:
        if node.op == "get_attr" and any(u in after for u in node.users):
            env[node] = graph.node_copy(node, lambda a: env[a])
        elif node in after:
            env[node] = graph.node_copy(node, lambda a: env[a])
    return fx.GraphModule(gm, graph, class_name="TrainableHead")


def _size_and_time(path: str) -> str:
    """``size|mtime_ns`` of a file, from one stat call ("None|None" when it is gone)."""
    try:
        stat = os.stat(path)
    except OSError:
        return "None|None"
    return f"{stat.st_size}|{stat.st_mtime_ns}"


def cache_key(split: CacheSplit, files: Sequence[tuple[Path, int]], transform: Callable,
              amp_dtype: torch.dtype | None = None) -> str:
    """Changes with the frozen part's weights, the cut, the files, the transform and the
    precision the features were computed in."""
    digest = hashlib.sha256()
    digest.update(split.cut.encode())
    if amp_dtype is not None:
        digest.update(str(amp_dtype).encode())
    for name, tensor in split.prefix.state_dict().items():
        digest.update(name.encode() + tensor_sha256(tensor).encode())
    for path, label in zip(path_strings(files), labels_of(files).tolist(), strict=True):
        digest.update(f"{path}|{label}|{_size_and_time(path)}".encode())
    digest.update(repr(transform).encode())
    return digest.hexdigest()[:32]


@dataclass
class Features:
    """Features per dataset index; ``ok[i]`` is False for files that could not be read."""

    values: np.ndarray | torch.Tensor
    ok: np.ndarray

    def __len__(self) -> int:
        return len(self.ok)


_MEMORY: "OrderedDict[str, Features]" = OrderedDict()
_MEMORY_ENTRIES = 4


@torch.no_grad()
def compute_features(
    split: CacheSplit, files: list[tuple[Path, int]], transform: Callable, *,
    device: torch.device, batch_size: int = 64, cache_dir: str | Path | None = None,
    workers: int = 0, amp_dtype: torch.dtype | None = None, channels_last: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    say: Callable[[str], None] = lambda text: None,
) -> tuple[Features, bool]:
    """Features for every file (memory, or ``cache_dir`` on disk); True when reused.
    ``workers`` decode in parallel; ``amp_dtype`` runs the frozen part in mixed precision
    (the features are stored as float32 either way), ``channels_last`` on channels-last
    input (1.7x faster convolutions on a CPU)."""
    key = cache_key(split, files, transform, amp_dtype)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key], True
    folder = Path(cache_dir) / key if cache_dir else None
    if folder is not None and folder.exists():
        found = _load(folder, len(files))
        if found is not None:
            return _remember(key, found), True
        say(f"the feature cache {folder} is damaged; computing the features again")
        shutil.rmtree(folder, ignore_errors=True)
    modes = {m: m.training for m in split.prefix.modules()}
    split.prefix.eval()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    chunks: list[torch.Tensor] = []
    ok = np.zeros(len(files), dtype=bool)
    loader = make_loader(ImageFiles(files, transform), batch_size, shuffle=False,
                         workers=workers, pin_memory=device.type == "cuda")
    done, template = 0, None
    try:
        for batch in loader:
            if should_stop():
                raise InterruptedError("stopped while caching features")
            if len(batch.images):
                images = batch.images.to(device, non_blocking=True).contiguous(
                    memory_format=layout)
                with torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                                    enabled=amp_dtype is not None):
                    out = split.prefix(images).float().cpu()
                template = out[0]
                ok[batch.indexes.numpy()] = True
            chunks.append((batch.indexes, out if len(batch.images) else None))
            done += len(batch.indexes) + len(batch.failed)
            progress(done, len(files))
    finally:
        for module, training in modes.items():
            module.training = training
    if template is None:
        raise ValueError("no image could be read, so there are no features to cache")
    values = torch.zeros(len(files), *template.shape)
    for indexes, out in chunks:
        if out is not None:
            values[indexes] = out
    features = Features(values, ok)
    if folder is not None:
        _save(folder, features, split.cut, len(files))
    return _remember(key, features), False


def _remember(key: str, features: Features) -> Features:
    _MEMORY[key] = features
    while len(_MEMORY) > _MEMORY_ENTRIES:
        _MEMORY.popitem(last=False)
    return features


CACHE_FILES = ("values.npy", "ok.npy")


def _checksum(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _save(folder: Path, features: Features, cut: str, count: int) -> None:
    """Write atomically: into a temporary folder, then rename it into place; ``meta.json``
    (written last) holds each file's size and SHA-256."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".tmp"))
    try:
        np.save(temp / "values.npy", np.asarray(features.values))
        np.save(temp / "ok.npy", features.ok)
        sums = {name: {"bytes": (temp / name).stat().st_size, "sha256": _checksum(temp / name)}
                for name in CACHE_FILES}
        (temp / "meta.json").write_text(json.dumps({"cut": cut, "files": count, "sums": sums}))
        temp.rename(folder)
    except OSError:
        shutil.rmtree(temp, ignore_errors=True)  # a full disk: train from memory
        if not folder.exists():
            raise


def _load(folder: Path, count: int) -> Features | None:
    """The cached features when every file is whole (sizes and checksums as written),
    else None: a damaged cache is rebuilt, never trusted."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        for name in CACHE_FILES:
            expected = meta["sums"][name]
            if (folder / name).stat().st_size != expected["bytes"] \
                    or _checksum(folder / name) != expected["sha256"]:
                return None
        found = Features(np.load(folder / "values.npy", mmap_mode="r"),
                         np.load(folder / "ok.npy"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if meta.get("files") == count == len(found.ok) == len(found.values) else None


class CachedFeatures(torch.utils.data.Dataset):
    """(features, label, index) per dataset index, (None, label, index) for unreadable files."""

    def __init__(self, features: Features, files: list[tuple[Path, int]]) -> None:
        self.features = features
        self.labels = [label for _, label in files]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        if not self.features.ok[index]:
            return None, self.labels[index], index
        value = self.features.values[index]
        if not isinstance(value, torch.Tensor):  # a read-only memory map from the disk cache
            value = torch.from_numpy(np.array(value))
        return value, self.labels[index], index
