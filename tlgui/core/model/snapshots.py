"""Snapshots, hashes and diffs of every tensor of a model (parameters and buffers)."""

import hashlib
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from tlgui.core.model.freeze import frozen_modules
from tlgui.core.model.provenance import provenance

Verdict = Literal["unchanged", "changed", "frozen-but-changed", "added", "removed"]


@dataclass
class TensorRecord:
    tensor: torch.Tensor  # a CPU clone
    sha256: str
    is_param: bool
    frozen: bool
    origin: str


def tensor_sha256(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's raw bytes (dtype and shape are part of the record)."""
    data = tensor.detach().contiguous().cpu().reshape(-1).view(torch.uint8).numpy()
    return hashlib.sha256(data).hexdigest()


def _frozen_flags(model: nn.Module) -> dict[str, bool]:
    """Per tensor: a parameter is frozen when it needs no gradient; a buffer when its
    module counts as frozen (see :func:`~tlgui.core.model.freeze.frozen_modules`)."""
    frozen_mods = frozen_modules(model)
    flags = {n: not p.requires_grad for n, p in model.named_parameters()}
    for name, _ in model.named_buffers():
        flags[name] = name.rpartition(".")[0] in frozen_mods
    return flags


class Snapshot(dict[str, TensorRecord]):
    """Tensor name -> record, in state-dict order."""

    def hashes(self) -> dict[str, str]:
        return {name: rec.sha256 for name, rec in self.items()}


def snapshot(model: nn.Module, *, with_hash: bool = True) -> Snapshot:
    """Clone every parameter and buffer to the CPU, with a SHA-256 per tensor."""
    flags = _frozen_flags(model)
    origins = provenance(model)
    params = {n for n, _ in model.named_parameters()}
    snap = Snapshot()
    for name, value in model.state_dict(keep_vars=True).items():
        clone = value.detach().to("cpu", copy=True)
        snap[name] = TensorRecord(
            tensor=clone,
            sha256=tensor_sha256(clone) if with_hash else "",
            is_param=name in params,
            frozen=flags.get(name, False),
            origin=origins[name].describe(),
        )
    return snap


@dataclass
class TensorDiff:
    name: str
    shape: tuple[int, ...]
    is_param: bool
    frozen: bool
    origin: str
    l2: float
    relative: float
    max_abs: float
    fraction_changed: float
    verdict: Verdict

    @property
    def alarm(self) -> bool:
        return self.verdict == "frozen-but-changed"


def _compare(name: str, before: TensorRecord, after: torch.Tensor, same_bits: bool) -> TensorDiff:
    common = dict(name=name, shape=tuple(before.tensor.shape), is_param=before.is_param,
                  frozen=before.frozen, origin=before.origin)
    if same_bits:
        return TensorDiff(**common, l2=0.0, relative=0.0, max_abs=0.0, fraction_changed=0.0,
                          verdict="unchanged")
    old = before.tensor.double()
    delta = after.double() - old
    l2 = float(delta.norm())
    norm = float(old.norm())
    numel = max(delta.numel(), 1)
    return TensorDiff(
        **common,
        l2=l2,
        relative=l2 / norm if norm > 0 else float("inf") if l2 > 0 else 0.0,
        max_abs=float(delta.abs().max()) if delta.numel() else 0.0,
        fraction_changed=float((before.tensor != after).sum()) / numel,
        verdict="frozen-but-changed" if before.frozen else "changed",
    )


def diff(before: Snapshot, after: Snapshot | nn.Module) -> list[TensorDiff]:
    """Per-tensor change from ``before`` to ``after`` (a snapshot or a live model).

    Whether a tensor counts as frozen comes from ``before``: it is what the user froze.
    """
    if isinstance(after, nn.Module):
        live = {n: t.detach().to("cpu") for n, t in after.state_dict(keep_vars=True).items()}
        after_hashes = None
    else:
        live = {n: r.tensor for n, r in after.items()}
        after_hashes = after.hashes()
    out: list[TensorDiff] = []
    for name, rec in before.items():
        if name not in live:
            out.append(_missing(name, rec, "removed"))
            continue
        tensor = live[name]
        if tensor.shape != rec.tensor.shape:
            out.append(_missing(name, rec, "changed"))
            continue
        if after_hashes is not None and rec.sha256 and after_hashes[name]:
            same = rec.sha256 == after_hashes[name]
        else:
            same = tensor.dtype == rec.tensor.dtype and torch.equal(rec.tensor, tensor)
        out.append(_compare(name, rec, tensor, same))
    out += [
        TensorDiff(name=n, shape=tuple(t.shape), is_param=False, frozen=False, origin="",
                   l2=0.0, relative=0.0, max_abs=0.0, fraction_changed=1.0, verdict="added")
        for n, t in live.items() if n not in before
    ]
    return out


def _missing(name: str, rec: TensorRecord, verdict: Verdict) -> TensorDiff:
    if verdict == "changed" and rec.frozen:
        verdict = "frozen-but-changed"
    return TensorDiff(name=name, shape=tuple(rec.tensor.shape), is_param=rec.is_param,
                      frozen=rec.frozen, origin=rec.origin, l2=float("nan"),
                      relative=float("nan"), max_abs=float("nan"), fraction_changed=1.0,
                      verdict=verdict)


def summarize(diffs: list[TensorDiff]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in diffs:
        counts[d.verdict] = counts.get(d.verdict, 0) + 1
    return counts
