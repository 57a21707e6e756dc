"""Makers of bad inputs for the corpus in test_bad_inputs.py: every file is generated at test
time, nothing binary is committed."""

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from .helpers import make_image_folder

TUTORIAL_NET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """The CIFAR-10 tutorial network, exactly as the tutorial writes it (no input_size)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def make():
    return Net()
'''


def tutorial_net_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mine.py"
    path.write_text(TUTORIAL_NET)
    return path


def photo(path: Path, mode: str = "RGB", size: tuple[int, int] = (48, 48), **save) -> Path:
    """A noisy picture in ``mode`` (noise: hundreds of colours, so not a placeholder)."""
    rng = np.random.default_rng(len(str(path)))
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode == "CMYK":
        image = image.convert("CMYK")
    elif mode == "I;16":
        image = Image.new("I;16", size)
        image.frombytes((pixels[..., 0].astype("<u2") * 257).tobytes(), "raw", "I;16")
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    elif mode == "RGBA":
        image = image.convert("RGBA")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **save)
    return path


def animated_gif(path: Path) -> Path:
    frames = [Image.fromarray(np.random.default_rng(i).integers(0, 255, (48, 48, 3),
                                                                dtype=np.uint8)) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def bomb_header(path: Path) -> Path:
    """A PNG whose header claims 30000x30000 pixels: Pillow refuses it as a bomb."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def folder_with(tmp: Path, name: str, writer) -> tuple[Path, Path]:
    """A good two-class folder plus one file made by ``writer(path)`` in train/red."""
    root = make_image_folder(tmp / "data", per_class=6, val_per_class=2)
    target = root / "train" / "red" / name
    writer(target)
    return root, target


class RunsCode:
    """Unpickling this calls os.system: weights_only must refuse it before it runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def code_pickle(path: Path, marker: Path) -> Path:
    with path.open("wb") as handle:
        pickle.dump({"weight": RunsCode(marker)}, handle, protocol=2)
    return path


def zip_project(path: Path, members: dict[str, bytes], *, deflate: bool = False) -> Path:
    mode = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def project_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def newer_format(members: dict[str, bytes]) -> dict[str, bytes]:
    doc = json.loads(members["project.json"])
    doc["format"], doc["app_version"] = 99, "9.0"
    return {**members, "project.json": json.dumps(doc).encode()}
