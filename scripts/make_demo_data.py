"""Make the bundled ants-vs-bees demo folder under resources/ from the full hymenoptera set.

Usage: python scripts/make_demo_data.py [SOURCE] [--train N] [--val N] [--side PX]
Takes the first N readable images per class (sorted by name), scales the shorter side to
PX pixels and saves them as JPEG, so the folder stays a few MB.
"""

import argparse
import shutil
from pathlib import Path

from PIL import Image, UnidentifiedImageError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "hymenoptera"
TARGET = ROOT / "tlgui" / "demo_data"


def shrink(src: Path, dst: Path, side: int) -> bool:
    try:
        with Image.open(src) as image:
            image.load()
            if image.format != "JPEG":
                return False
            image = image.convert("RGB")
    except (OSError, UnidentifiedImageError):
        return False
    scale = side / min(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.Resampling.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    image.save(dst, "JPEG", quality=85, optimize=True)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--train", type=int, default=60)
    parser.add_argument("--val", type=int, default=30)
    parser.add_argument("--side", type=int, default=192)
    args = parser.parse_args()
    if TARGET.exists():
        shutil.rmtree(TARGET)
    for split, count in (("train", args.train), ("val", args.val)):
        for class_dir in sorted(p for p in (args.source / split).iterdir() if p.is_dir()):
            kept = 0
            for src in sorted(class_dir.iterdir()):
                if kept == count:
                    break
                kept += shrink(src, TARGET / split / class_dir.name / src.name, args.side)
            print(f"{split}/{class_dir.name}: {kept} images")


if __name__ == "__main__":
    main()
