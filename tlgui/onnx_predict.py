"""Classify images with an ONNX file exported by tlgui, using only onnxruntime, numpy and
Pillow (no torch): the preprocessing comes from the file's own metadata.

Usage: python -m tlgui.onnx_predict model.onnx image.jpg [image.jpg ...] [--topk K]
This file may be copied next to the model and run on its own.
"""

import argparse
import json
import sys

import numpy as np
import onnxruntime
from PIL import Image

INTERPOLATION = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                 "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


def read_metadata(session: onnxruntime.InferenceSession) -> dict:
    props = session.get_modelmeta().custom_metadata_map
    if "tlgui" not in props:
        raise ValueError("this ONNX file has no tlgui metadata (class names, preprocessing)")
    return json.loads(props["tlgui"])


def preprocess(path: str, spec: dict) -> np.ndarray:
    """Resize the shorter side, centre-crop, scale to [0, 1]: 3 x H x W float32, as
    torchvision's Resize(int), CenterCrop and ToTensor do."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    side = spec["resize_shorter_side"]
    if width <= height:
        size = (side, int(side * height / width))
    else:
        size = (int(side * width / height), side)
    image = image.resize(size, INTERPOLATION[spec["interpolation"]])
    crop = spec["center_crop"]
    left = int(round((size[0] - crop) / 2.0))
    top = int(round((size[1] - crop) / 2.0))
    image = image.crop((left, top, left + crop, top + crop))
    return (np.asarray(image, dtype=np.float32) / 255.0).transpose(2, 0, 1)


def predict(model_path: str, images: list[str], topk: int = 5) -> list[dict]:
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    meta = read_metadata(session)
    classes, spec = meta["classes"], meta["preprocessing"]
    batch = np.stack([preprocess(p, spec) for p in images])
    logits = session.run(None, {session.get_inputs()[0].name: batch})[0]
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    probs = shifted / shifted.sum(1, keepdims=True)
    results = []
    for path, row, raw in zip(images, probs, logits, strict=True):
        order = np.argsort(-row)[:topk]
        results.append({"image": path, "logits": raw.tolist(),
                        "top": [{"index": int(i), "label": classes[i],
                                 "probability": float(row[i])} for i in order]})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", nargs="+")
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = predict(args.model, args.images, args.topk)
    if args.json:
        print(json.dumps(results))
        return 0
    for result in results:
        print(result["image"])
        for rank in result["top"]:
            print(f"  {rank['probability']:7.2%}  {rank['label']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
