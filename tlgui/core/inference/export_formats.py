"""Exporting a trained model to ONNX or TorchScript, runnable without tlgui.

The exported graph takes RGB float32 in [0, 1], N x 3 x H x W with a dynamic batch, and does
the model's normalisation (and the grey conversion of a one-channel model) itself. The file's
metadata (ONNX ``metadata_props``, TorchScript extra file ``tlgui.json``) and a JSON sidecar
hold the class names and the preprocessing: resize, crop, interpolation, mean, std.
"""

import json
import warnings
from pathlib import Path

import torch
from torch import nn

from tlgui import __version__
from tlgui.core.data.datasets import describe_eval_transform
from tlgui.core.errors import TlguiError
from tlgui.core.files import write_atomically, write_text_atomically
from tlgui.core.model.loaded import LoadedModel

FORMATS = ("onnx", "torchscript", "script")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "script": ".py"}
META_KEY = "tlgui"


class ExportError(TlguiError):
    """A model that cannot be exported in the chosen format."""


class WithPreprocessing(nn.Module):
    """``model`` behind its own normalisation: RGB in [0, 1] in, logits out."""

    def __init__(self, model: nn.Module, mean, std, channels: int = 3) -> None:
        super().__init__()
        self.model = model
        self.grey = channels == 1
        shape = (1, channels, 1, 1)
        self.register_buffer("mean", torch.tensor(mean[:channels], dtype=torch.float32).view(shape))
        self.register_buffer("std", torch.tensor(std[:channels], dtype=torch.float32).view(shape))
        self.register_buffer("rgb", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.grey:  # torchvision's Grayscale weights
            image = (image * self.rgb).sum(1, keepdim=True)
        return self.model((image - self.mean) / self.std)


def preprocessing(loaded: LoadedModel) -> dict:
    """What a caller does before the graph: the model's eval transform minus normalisation."""
    spec = describe_eval_transform(loaded.transform)
    return {
        "input": "RGB float32 in [0, 1], N x 3 x H x W (normalisation is inside the graph)",
        "size": list(loaded.input_size),
        "resize_shorter_side": spec.resize, "center_crop": spec.size,
        "interpolation": spec.interpolation.value, "mean": list(spec.mean), "std": list(spec.std),
    }


def metadata(loaded: LoadedModel) -> dict:
    return {"format": 1, "tlgui_version": __version__, "classes": list(loaded.class_names),
            "preprocessing": preprocessing(loaded), "source": loaded.spec}


def wrapped(loaded: LoadedModel) -> WithPreprocessing:
    spec = describe_eval_transform(loaded.transform)
    model = WithPreprocessing(loaded.model, spec.mean, spec.std, loaded.input_size[0])
    return model.eval().cpu()


def export_model(loaded: LoadedModel, fmt: str, out: str | Path) -> list[Path]:
    """Write ``out`` (and its JSON sidecar ``out`` + ``.json``); returns the files written."""
    if fmt not in ("onnx", "torchscript"):
        raise ExportError(f"the export format must be onnx or torchscript here, not '{fmt}'")
    out = Path(out)
    meta = metadata(loaded)
    model = wrapped(loaded)
    example = torch.rand(2, 3, *loaded.input_size[1:])

    def write(temp: str) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and exporter chatter
            if fmt == "onnx":
                _onnx(model, example, temp, meta)
            else:
                traced = torch.jit.trace(model, example)
                torch.jit.save(traced, temp, _extra_files={"tlgui.json": json.dumps(meta)})

    try:
        write_atomically(out, write, ExportError)
    except TlguiError:
        raise
    except Exception as exc:  # exporters fail on unsupported operations in many ways
        raise ExportError(f"this model cannot be exported to {fmt}: "
                          f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
                          ) from exc
    sidecar = out.with_name(out.name + ".json")
    write_text_atomically(sidecar, json.dumps({**meta, "file": out.name, "format_name": fmt},
                                              indent=1), ExportError)
    return [out, sidecar]


def _onnx(model: nn.Module, example: torch.Tensor, path: str | Path, meta: dict) -> None:
    try:
        import onnx
    except ImportError as exc:
        raise ExportError("ONNX export needs the export extra: pip install 'tlgui[export]'") \
            from exc
    torch.onnx.export(model, (example,), str(path), input_names=["image"],
                      output_names=["logits"], opset_version=17, dynamo=False,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(str(path))
    for key, value in ((META_KEY, json.dumps(meta)), ("classes", json.dumps(meta["classes"])),
                       ("preprocessing", json.dumps(meta["preprocessing"]))):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
