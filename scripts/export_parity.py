"""ONNX (onnxruntime) and TorchScript exports against PyTorch on real photos: max |Δ logit|
and top-1 agreement, for the offline default and a branched ResNet-18.

Usage: python scripts/export_parity.py [--data ../shared/data/hymenoptera/val]
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from tlgui.core.data.image_check import open_rgb
from tlgui.core.inference.export_formats import export_model, preprocessing
from tlgui.core.model.loaded import LoadedModel
from tlgui.core.model.recipe import build
from tlgui.onnx_predict import predict, preprocess

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "default (EfficientNet-Lite0, new head)": [
        {"op": "load", "model": "default", "weights": "default"},
        {"op": "replace_head", "num_classes": 2}],
    "ResNet-18 with a branch layer3.1.relu_1 -> flatten (concat)": [
        {"op": "load", "model": "resnet18", "weights": "none"},
        {"op": "branch", "fork": "layer3.1.relu_1", "join": "flatten", "init": "copy",
         "merge": "concat", "num_classes": 2}],
}


@torch.no_grad()
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT.parent / "shared" / "data" / "hymenoptera" / "val")
    args = parser.parse_args()
    photos = sorted(p for p in args.data.rglob("*.jpg"))
    print(f"{len(photos)} photos from {args.data}")
    for name, recipe in MODELS.items():
        exp = build(recipe)
        loaded = LoadedModel(exp.model.eval(), exp.loaded.transform, ["ant", "bee"],
                             exp.loaded.input_size, name, "none")
        expected = torch.cat([loaded.model(torch.stack([loaded.transform(open_rgb(p))
                                                        for p in photos[i:i + 32]]))
                              for i in range(0, len(photos), 32)])
        with tempfile.TemporaryDirectory() as folder:
            onnx_file, _ = export_model(loaded, "onnx", Path(folder) / "m.onnx")
            script_file, _ = export_model(loaded, "torchscript", Path(folder) / "m.pt")
            onnx_logits = torch.tensor([r["logits"] for r in predict(str(onnx_file),
                                                                     list(map(str, photos)))])
            script = torch.jit.load(str(script_file))
            spec = preprocessing(loaded)
            batch = torch.from_numpy(np.stack([preprocess(str(p), spec) for p in photos]))
            script_logits = script(batch)
        print(name)
        for label, logits in (("onnxruntime", onnx_logits), ("torchscript", script_logits)):
            delta = float((logits - expected).abs().max())
            same = int((logits.argmax(1) == expected.argmax(1)).sum())
            print(f"  {label:<12} max |Δ logit| = {delta:.2e}   same top-1 on {same}/{len(photos)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
