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


def make_image_folder(root: Path, *, per_class: int = 12, val_per_class: int = 4,
                      classes: tuple[str, ...] = ("red", "blue"), side: int = 40) -> Path:
    """A small train/val folder of noisy JPEGs whose colour says the class."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    colours = {"red": (200, 40, 40), "blue": (40, 40, 200), "green": (40, 200, 40)}
    for split, count in (("train", per_class), ("val", val_per_class)):
        for name in classes:
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                noise = rng.integers(-60, 60, (side, side, 3))
                pixels = np.clip(np.array(colours[name]) + noise, 0, 255).astype("uint8")
                Image.fromarray(pixels).save(folder / f"{name}_{i}.jpg", quality=90)
    return root


def write_broken_files(folder: Path) -> dict[str, str]:
    """Broken files of every kind the checks know, with a word each reason must contain."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "page.jpg").write_text("<!DOCTYPE html><html>404</html>")
    good = folder / "cut.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
    good.write_bytes(good.read_bytes()[:400])
    placeholder = Image.new("P", (120, 120), 0)
    placeholder.putpalette([250, 250, 250, 20, 20, 20] + [0] * 762)
    placeholder.save(folder / "missing.gif")
    return {"empty.jpg": "empty", "page.jpg": "HTML", "cut.jpg": "truncated",
            "missing.gif": "placeholder"}


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    import hashlib

    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def plant_errors(root: Path) -> tuple[Path, list[Path], Path, Path]:
    """The demo photos at ``root`` with 6 training labels flipped, three copies planted (same
    bytes in val, a 5% crop in val, a recompressed copy inside train) and one blank frame
    (val/bees/blank.jpg). Returns (root, flipped files, the original of the leak, the
    original of the copy inside train)."""
    import shutil

    from PIL import Image

    from tlgui.core.data.demo import DEMO_DATA

    shutil.copytree(DEMO_DATA, root)
    ants, bees = sorted((root / "train" / "ants").glob("*.jpg")), \
        sorted((root / "train" / "bees").glob("*.jpg"))
    flipped = []
    for source, target in ((ants[:3], "bees"), (bees[:3], "ants")):
        for path in source:
            moved = root / "train" / target / f"flipped_{path.name}"
            path.rename(moved)
            flipped.append(moved)
    original = ants[10]
    shutil.copy(original, root / "val" / "ants" / "same_bytes.jpg")
    image = Image.open(original).convert("RGB")
    w, h = image.size
    image.crop((w // 20, h // 20, w - w // 20, h - h // 20)).save(
        root / "val" / "ants" / "cropped.jpg", quality=85)
    Image.open(bees[10]).convert("RGB").save(root / "train" / "bees" / "recompressed.jpg",
                                             quality=60)
    Image.new("RGB", (256, 256), (128, 128, 128)).save(root / "val" / "bees" / "blank.jpg")
    return root, flipped, original, bees[10]
