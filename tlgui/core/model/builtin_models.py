"""Architectures from DESIGN.md's scenarios, available as ``builtin:<name>``."""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class CifarNet(nn.Module):
    """The CIFAR-10 tutorial ``Net``: 32x32 RGB in, 10 classes out."""

    input_size = (3, 32, 32)

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def _vgg_stage(in_ch: int, out_ch: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, 3, padding=1), nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Vgg64(nn.Module):
    """Simplified VGG for 64x64 images: stages 64-128-256-512, then 8192-1024-1024-C."""

    input_size = (3, 64, 64)

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _vgg_stage(3, 64, 2),
            _vgg_stage(64, 128, 2),
            _vgg_stage(128, 256, 3),
            _vgg_stage(256, 512, 3),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(512 * 4 * 4, 1024),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(1024, 1024),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# name -> (constructor, input side in pixels, default number of classes)
BUILTINS: dict[str, tuple[Callable[[int], nn.Module], int, int]] = {
    "cifar_net": (CifarNet, 32, 10),
    "vgg64": (Vgg64, 64, 2),
}
