"""The integrity report: proof that frozen tensors and the original model did not move."""

import dataclasses
from dataclasses import dataclass

from torch import nn

from tlgui.core.model.freeze import frozen_modules
from tlgui.core.model.snapshots import Snapshot, TensorDiff, diff, snapshot, summarize


def trainable_tensor_names(model: nn.Module) -> set[str]:
    """Tensors training may change now: trainable parameters, and the buffers of layers
    that are not frozen (BatchNorm statistics update in train mode)."""
    frozen = frozen_modules(model)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    names |= {n for n, _ in model.named_buffers() if n.rpartition(".")[0] not in frozen}
    return names


@dataclass
class IntegrityReport:
    rows: list[TensorDiff]
    original_rows: list[TensorDiff]
    original_tensors: int

    @property
    def alarms(self) -> list[str]:
        return [d.name for d in self.rows if d.alarm]

    @property
    def original_changed(self) -> list[str]:
        return [d.name for d in self.original_rows if d.verdict != "unchanged"]

    @property
    def passed(self) -> bool:
        return not self.alarms and not self.original_changed

    def summary(self) -> str:
        counts = summarize(self.rows)
        frozen = sum(1 for d in self.rows if d.frozen)
        lines = [f"integrity {'PASS' if self.passed else 'FAIL'}: {frozen} frozen tensors checked; "
                 + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))]
        if self.original_tensors:
            if self.original_changed:
                lines.append(f"original model CHANGED: {', '.join(self.original_changed[:10])}")
            else:
                lines.append(f"original model bit-identical: {self.original_tensors} tensors, "
                             "SHA-256 verified")
        if self.alarms:
            lines.append(f"frozen but changed: {', '.join(self.alarms[:10])}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "alarms": self.alarms,
            "original_changed": self.original_changed,
            "original_tensors": self.original_tensors,
            "tensors": [dataclasses.asdict(d) for d in self.rows],
        }


def weight_changes(before: Snapshot, model: nn.Module, changeable: set[str]) -> list[TensorDiff]:
    """Every tensor's change since ``before``; frozen means outside ``changeable`` (never
    trainable so far in the run), so a tensor that moved there is an alarm. The per-epoch
    view and the final verdict both use this rule."""
    marked = Snapshot({name: dataclasses.replace(rec, frozen=name not in changeable)
                       for name, rec in before.items()})
    return diff(marked, model)


def check_integrity(before: Snapshot, model: nn.Module, changeable: set[str],
                    original_before: Snapshot | None = None,
                    original: nn.Module | None = None) -> IntegrityReport:
    """Diff ``model`` against ``before``; a tensor outside ``changeable`` (frozen for the
    whole run) that moved is an alarm. The original, when given, must be bit-identical."""
    original_rows: list[TensorDiff] = []
    if original_before is not None and original is not None:
        original_rows = diff(original_before, snapshot(original))
    return IntegrityReport(rows=weight_changes(before, model, changeable),
                           original_rows=original_rows,
                           original_tensors=len(original_before or {}))
