"""Likely label errors by confident learning (Northcutt, Jiang and Chuang, JAIR 2021),
implemented here rather than through cleanlab: the method is thirty lines over out-of-fold
probabilities, and those we compute ourselves in seconds from cached features.

Out-of-fold probabilities: k multinomial logistic-regression heads (a linear layer, what a
head-only fit trains), each fitted on the other folds' feature vectors, seeded. A sample is
a label issue when the class it is confidently counted in (the most probable class whose
probability reaches that class's threshold, the mean probability the class gets on its own
samples) is not its given class; issues are ranked by self-confidence, the out-of-fold
probability of the given label (lowest first).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


def fit_head(x: torch.Tensor, y: torch.Tensor, classes: int, *, seed: int = 0,
             weight_decay: float = 1e-3, steps: int = 60) -> nn.Linear:
    """A linear head fitted by L-BFGS on standardised features: full batch, so every step is
    one large matrix product that all threads share (5 folds of 25,000 x 1,280 vectors:
    8.2 s on one thread, 5.5 s on two; ``scripts/bench_clean.py``), and deterministic."""
    torch.manual_seed(seed)
    head = nn.Linear(x.shape[1], classes)
    optimiser = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=steps,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(head(x), y) + weight_decay * head.weight.square().sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return head


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, classes: int, *,
                              folds: int = 5, seed: int = 0,
                              progress: Callable[[int, int], None] = lambda done, total: None
                              ) -> np.ndarray:
    """P[i, k]: the probability of class k for sample i from a head that never saw i."""
    x = torch.as_tensor(features, dtype=torch.float32).flatten(1)
    x = (x - x.mean(0)) / x.std(0).clamp(min=1e-6)
    y = torch.as_tensor(labels, dtype=torch.long)
    order = np.random.default_rng(seed).permutation(len(y))
    parts = np.array_split(order, min(folds, len(y)))
    probabilities = np.zeros((len(y), classes), dtype=np.float32)
    with torch.no_grad():
        for number, held in enumerate(parts):
            kept = np.setdiff1d(order, held)
            with torch.enable_grad():
                head = fit_head(x[kept], y[kept], classes, seed=seed + number)
            probabilities[held] = head(x[held]).softmax(1).numpy()
            progress(number + 1, len(parts))
    return probabilities


@dataclass(frozen=True)
class LabelIssue:
    index: int
    given: int
    suggested: int
    score: float  # 1 - the out-of-fold probability of the given label: higher, likelier

    def as_dict(self, paths: list[str], names: list[str]) -> dict:
        return {"path": paths[self.index], "given": names[self.given],
                "suggested": names[self.suggested], "score": round(self.score, 4)}


def label_issues(probabilities: np.ndarray, labels: np.ndarray) -> list[LabelIssue]:
    """The off-diagonal of the confident joint, most likely error first."""
    classes = probabilities.shape[1]
    thresholds = np.array([probabilities[labels == k, k].mean() if (labels == k).any() else 1.0
                           for k in range(classes)])
    confident = probabilities >= thresholds  # which classes each sample is confidently in
    masked = np.where(confident, probabilities, -1.0)
    counted = masked.argmax(1)
    found = []
    for index in np.flatnonzero(confident.any(1) & (counted != labels)):
        found.append(LabelIssue(int(index), int(labels[index]), int(counted[index]),
                                float(1 - probabilities[index, labels[index]])))
    return sorted(found, key=lambda issue: -issue.score)
