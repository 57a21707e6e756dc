"""Evaluating a trained model on a split: confusion matrix, per-class precision / recall /
F1, top-1 and top-k accuracy, and the most confident mistakes."""

from dataclasses import asdict, dataclass, field

import torch

from tlgui.core.data.data_index import VALID_NAMES, DataIndex
from tlgui.core.data.datasets import ImageFiles, make_loader
from tlgui.core.data.image_check import usable
from tlgui.core.errors import ValidationError
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.train.compute import fast_forward
from tlgui.core.train.devices import pick_device


@dataclass
class Mistake:
    path: str
    true: str
    predicted: str
    probability: float


@dataclass
class EvalReport:
    classes: list[str]
    split: str
    images: int
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]
    top1: float
    topk: float
    k: int
    mistakes: list[Mistake] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def normalised(self) -> list[list[float]]:
        """Each row divided by its support (a row of zeros for a class without images)."""
        return [[count / max(sum(row), 1) for count in row] for row in self.confusion]

    def as_dict(self) -> dict:
        return {**asdict(self), "confusion_normalised": self.normalised()}

    def format_text(self) -> str:
        width = max(18, *(len(c) + 2 for c in self.classes))
        head = "true \\ predicted".ljust(width) + "".join(c[:10].rjust(11) for c in self.classes)
        lines = [f"{self.images} {self.split} images · top-1 {self.top1:.3f} · top-{self.k} "
                 f"{self.topk:.3f}", "", "confusion matrix (counts, then row-normalised):", head]
        for name, row, share in zip(self.classes, self.confusion, self.normalised(), strict=True):
            lines.append(name.ljust(width) + "".join(f"{n:>11}" for n in row))
            lines.append("".ljust(width) + "".join(f"{v:>11.1%}" for v in share))
        lines += ["", "class".ljust(width) + f"{'precision':>11}{'recall':>11}{'F1':>11}"
                  f"{'support':>11}"]
        for i, name in enumerate(self.classes):
            lines.append(name.ljust(width) + f"{self.precision[i]:>11.3f}{self.recall[i]:>11.3f}"
                         f"{self.f1[i]:>11.3f}{self.support[i]:>11}")
        if self.mistakes:
            lines += ["", "most confident mistakes:"]
            lines += [f"  {m.probability:6.1%}  {m.true} → {m.predicted}  {m.path}"
                      for m in self.mistakes]
        lines += [f"skipped {path}: {reason}" for path, reason in self.skipped.items()]
        return "\n".join(lines)


def split_key(split: str) -> str:
    """'val', 'valid', 'validation' → 'valid'; 'train' and 'test' stay."""
    return "valid" if split in VALID_NAMES else split


@torch.no_grad()
def evaluate(loaded: LoadedModel, data: DataIndex, split: str = "valid", *, k: int = 5,
             batch_size: int = 32, mistakes: int = 24, device: str = "auto",
             amp: bool = True) -> EvalReport:
    """Run ``loaded.model`` over ``split`` of ``data``; classes are matched by name. With
    ``amp``, in the precision and memory format training uses on this device."""
    classes = list(loaded.class_names)
    key = split_key(split)
    if key not in data.splits or not data.splits[key]:
        have = ", ".join("val" if s == "valid" else s for s in data.splits) or "none"
        raise ValidationError(f"{data.root} has no {split} split to evaluate (it has: {have})",
                              "split")
    unknown = [c for c in data.classes if c not in classes]
    if unknown:
        raise ValidationError(f"the data has class(es) the model was not trained on: "
                              f"{', '.join(unknown)}; the model knows {', '.join(classes)}",
                              "data")
    remap = [classes.index(c) for c in data.classes]
    kept, bad = usable(data.splits[key], data.bad_files)
    samples = [(p, remap[label]) for p, label in kept]
    target = pick_device(device)
    model = loaded.model.eval().to(target)
    forward = None
    n = len(classes)
    confusion = torch.zeros(n, n, dtype=torch.long)
    top_hits, wrong = 0, []
    skipped = {str(p): r for p, r in bad.items()}
    dataset = ImageFiles(samples, loaded.transform)
    for batch in make_loader(dataset, batch_size, shuffle=False):
        skipped |= {str(samples[i][0]): "could not be decoded" for i in batch.failed}
        if not len(batch.labels):
            continue
        forward = forward or fast_forward(model, target, batch.images[0], amp=amp,
                                          channels_last=amp)
        probs = forward(batch.images).softmax(1).cpu()
        best, predicted = probs.max(1)
        labels = batch.labels
        confusion += torch.bincount(labels * n + predicted, minlength=n * n).view(n, n)
        top = probs.topk(min(k, n), dim=1).indices
        top_hits += int((top == labels[:, None]).any(1).sum())
        for i in (predicted != labels).nonzero().flatten().tolist():
            index = int(batch.indexes[i])
            wrong.append(Mistake(str(samples[index][0]), classes[int(labels[i])],
                                 classes[int(predicted[i])], float(best[i])))
    seen = int(confusion.sum())
    diag = confusion.diag().double()
    precision = (diag / confusion.sum(0).clamp(min=1)).tolist()
    recall = (diag / confusion.sum(1).clamp(min=1)).tolist()
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall, strict=True)]
    wrong.sort(key=lambda m: -m.probability)
    return EvalReport(
        classes=classes, split="val" if key == "valid" else key, images=seen,
        confusion=confusion.tolist(), precision=precision, recall=recall, f1=f1,
        support=confusion.sum(1).tolist(), top1=float(diag.sum()) / max(seen, 1),
        topk=top_hits / max(seen, 1), k=min(k, n), mistakes=wrong[:mistakes],
        skipped=skipped)

