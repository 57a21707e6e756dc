"""Classifying image files with a loaded model and its own eval transforms."""

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import UnidentifiedImageError

from tlgui.core.data.image_check import open_rgb
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.train.compute import fast_forward


@torch.no_grad()
def predict_files(loaded: LoadedModel, paths: Sequence[str | Path], topk: int = 5,
                  tta: bool = False, amp: bool = True) -> list[dict]:
    """Top-``topk`` classes with probabilities per file; unreadable files get an error.
    ``tta`` averages the probabilities of the image and its horizontal flip; ``amp``
    computes in the precision and memory format training uses on this device."""
    model = loaded.model.eval()
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    results, forward = [], None
    for path in paths:
        try:
            image = open_rgb(path)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            results.append({"image": str(path), "error": f"cannot read image: {unreadable_reason(exc)}"})
            continue
        batch = loaded.transform(image).unsqueeze(0).to(device)
        if tta:
            batch = torch.cat([batch, batch.flip(3)])
        forward = forward or fast_forward(model, device, batch[0], amp=amp, channels_last=amp)
        probs = forward(batch).softmax(dim=1).mean(0)
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


def unreadable_reason(exc: Exception) -> str:
    """Why a file could not be read, in a few plain words."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    return (getattr(exc, "strerror", None) or str(exc)).lower()


def write_csv(results: list[dict], path: str | Path) -> Path:
    """One row per image: the file, then label and probability for each of the top k."""
    import csv
    import io

    from tlgui.core.files import write_text_atomically

    path = Path(path)
    k = max((len(r.get("top", [])) for r in results), default=0)
    header = ["image", *[f"{kind}_{i}" for i in range(1, k + 1)
                         for kind in ("label", "probability")], "error"]
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(header)
    for result in results:
        cells = [x for rank in result.get("top", [])
                 for x in (rank["label"], f"{rank['probability']:.6f}")]
        cells += [""] * (2 * k - len(cells))
        writer.writerow([result["image"], *cells, result.get("error", "")])
    return write_text_atomically(path, handle.getvalue())
