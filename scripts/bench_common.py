"""What the benchmark scripts share: data, a plain tutorial-style loop, argument parsing."""

import time
from pathlib import Path

import torch
from torch import nn

from tlgui.core.data.data_index import index_folder
from tlgui.core.data.datasets import ImageFiles
from tlgui.core.data.image_check import find_bad_files
from tlgui.core.model.recipe import build

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "hymenoptera"
DEMO = ROOT / "tlgui" / "demo_data"


def data_index(folder: Path | None):
    """The index with unreadable files removed, so both loops see the same images."""
    index = index_folder(folder or (SHARED if SHARED.is_dir() else DEMO))
    bad = find_bad_files([p for s in index.splits.values() for p, _ in s])
    for split, samples in index.splits.items():
        index.splits[split] = [s for s in samples if s[0] not in bad]
    return index


def head_only_default(index):
    """The bundled default model with a head for the index's classes and its body frozen."""
    return build([{"op": "load", "model": "default", "weights": "default"},
                  {"op": "replace_head", "num_classes": len(index.classes)},
                  {"op": "preset", "name": "head-only"}])


def plain_loader(samples, transform, batch_size: int, seed: int, shuffle: bool):
    """A DataLoader as the tutorials write it: (image, label) pairs, default collate."""

    class Pairs(ImageFiles):
        def __getitem__(self, index):
            image, label, _ = super().__getitem__(index)
            return image, label

    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(Pairs(samples, transform), batch_size=batch_size,
                                       shuffle=shuffle, generator=generator)


def plain_train_epoch(model: nn.Module, loader, optimizer, device, train_mode=None
                      ) -> tuple[float, int]:
    """The classic loop; returns (seconds, images). ``train_mode(model)`` replaces the
    tutorials' ``model.train()`` (which lets frozen BatchNorm statistics drift)."""
    (train_mode or nn.Module.train)(model)
    criterion = nn.CrossEntropyLoss()
    running_loss, images = 0.0, 0
    start = time.perf_counter()
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
        images += inputs.size(0)
    return time.perf_counter() - start, images


@torch.no_grad()
def plain_accuracy(model: nn.Module, loader, device) -> float:
    model.eval()
    correct = total = 0
    for inputs, labels in loader:
        correct += int((model(inputs.to(device)).argmax(1).cpu() == labels).sum())
        total += len(labels)
    return correct / max(total, 1)
