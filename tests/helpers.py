"""Small real training loops the tests share (the engine has its own tests)."""

from pathlib import Path

import torch
from torch import nn
from torchvision import datasets
from torchvision import transforms as T

from tlgui.core import build_optimizer, set_train_mode


def image_loader(root: Path, side: int, batch_size: int = 16) -> torch.utils.data.DataLoader:
    """Real photos from an ``ImageFolder`` split, resized to ``side`` pixels."""
    transform = T.Compose([T.Resize((side, side)), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    data = datasets.ImageFolder(str(root), transform=transform)
    generator = torch.Generator().manual_seed(0)
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True,
                                       generator=generator)


def train_epoch(model: nn.Module, loader, lr: float = 0.01, max_steps: int | None = None) -> None:
    """One epoch of SGD with momentum over the model's trainable parameters."""
    optimizer = build_optimizer(model, "sgd", lr=lr, momentum=0.9, weight_decay=1e-4)
    set_train_mode(model)
    for step, (images, labels) in enumerate(loader):
        if max_steps is not None and step == max_steps:
            break
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    model.eval()


def storages(model: nn.Module) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in model.state_dict(keep_vars=True).values()}
