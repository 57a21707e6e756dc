"""Classifying image files with a loaded model and its own eval transforms."""

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

from tlgui.core.zoo import LoadedModel


def open_rgb(path: str | Path) -> Image.Image:
    """Open an image file as RGB, fully decoded (so a truncated file fails here)."""
    with Image.open(path) as image:
        image.load()
        return image.convert("RGB")


@torch.no_grad()
def predict_files(loaded: LoadedModel, paths: Sequence[str | Path], topk: int = 5) -> list[dict]:
    """Top-``topk`` classes with probabilities per file; unreadable files get an error."""
    model = loaded.model.eval()
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    results = []
    for path in paths:
        try:
            image = open_rgb(path)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            results.append({"image": str(path), "error": f"cannot read image: {exc}"})
            continue
        probs = model(loaded.transform(image).unsqueeze(0).to(device)).softmax(dim=1)[0]
        values, indexes = probs.topk(min(topk, probs.numel()))
        names = loaded.class_names
        results.append({
            "image": str(path),
            "top": [
                {"index": int(i), "label": names[i] if i < len(names) else f"class_{i}",
                 "probability": float(v)}
                for v, i in zip(values.tolist(), indexes.tolist(), strict=True)
            ],
        })
    return results
