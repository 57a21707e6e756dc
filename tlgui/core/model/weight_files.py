"""Reading weights files safely and loading them into a model with a report.

``.safetensors`` files are read with safetensors; ``.pt``/``.pth``/``.bin`` with
``torch.load(weights_only=True)``, which refuses pickles that would run code.
"""

import pickle
import pickletools
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from tlgui.core.errors import CheckpointError, UnsafeCheckpointError
from tlgui.core.model.provenance import Origin, set_origins

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "weights")


@dataclass
class LoadReport:
    """What a weights file did to a model: each list holds state-dict keys."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"loaded {len(self.loaded)} tensors, skipped {len(self.skipped)}, "
            f"missing {len(self.missing)}, unexpected {len(self.unexpected)}"
        ]
        lines += [f"  skipped {k}: file {list(a)} vs model {list(b)}" for k, a, b in self.skipped]
        lines += [f"  missing {k}" for k in self.missing]
        lines += [f"  unexpected {k}" for k in self.unexpected]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "skipped": [{"key": k, "file_shape": list(a), "model_shape": list(b)}
                        for k, a, b in self.skipped],
            "missing": self.missing,
            "unexpected": self.unexpected,
        }


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a flat ``{key: tensor}`` dict, never running its code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc
    if not _looks_like_pickle(path):
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint: it is neither a torch.save archive nor a "
            "pickle (empty, damaged, or another kind of file)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower() or not _imports_code(path):
            raise CheckpointError(f"{path} is not a readable PyTorch checkpoint (damaged or "
                                  "truncated)") from exc
        raise UnsafeCheckpointError(
            f"{path} holds Python objects that would run code when loaded, so tlgui refused it "
            f"(torch.load with weights_only=True said: {str(exc).splitlines()[0]}). "
            "If you trust the file, re-save only its tensors: "
            "torch.save(model.state_dict(), 'clean.pt'), or use safetensors."
        ) from exc
    except Exception as exc:  # garbage input fails in many ways (KeyError, EOFError, ...)
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint (truncated or another format)"
        ) from exc
    return _flatten(obj, path)


def _looks_like_pickle(path: Path) -> bool:
    """A torch.save zip archive, or a pickle (protocol 2 or later starts with 0x80)."""
    if zipfile.is_zipfile(path):
        return True
    with path.open("rb") as handle:
        return handle.read(1) == b"\x80"


def _pickle_bytes(path: Path) -> bytes:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            return archive.read(name) if name else b""
    return path.read_bytes()


def _imports_code(path: Path) -> bool:
    """Whether a pickle that weights_only refused is whole and names Python objects (so it
    was refused for what loading it would run), rather than being damaged."""
    try:
        names = [op.name for op, _, _ in pickletools.genops(_pickle_bytes(path))]
    except (ValueError, EOFError, zipfile.BadZipFile, OSError):
        return False
    return bool({"GLOBAL", "STACK_GLOBAL", "INST", "OBJ"} & set(names))


def _flatten(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), dict):
                return _flatten(obj[key], path)
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise CheckpointError(
        f"{path} holds no tensors tlgui can use (found {type(obj).__name__}); "
        "save a state dict: torch.save(model.state_dict(), path)"
    )


def _strip_prefix(key: str) -> str:
    while key.startswith("module."):
        key = key[len("module."):]
    return key


def load_state_dict_into(
    model: nn.Module, state: dict[str, torch.Tensor], source: str = ""
) -> LoadReport:
    """Copy matching tensors into ``model`` by name; shapes that differ are skipped."""
    own = model.state_dict()
    report = LoadReport()
    incoming: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        name = _strip_prefix(key)
        if name not in own:
            report.unexpected.append(key)
        elif tuple(tensor.shape) != tuple(own[name].shape):
            report.skipped.append((name, tuple(tensor.shape), tuple(own[name].shape)))
        else:
            incoming[name] = tensor
            report.loaded.append(name)
    skipped = {key for key, _, _ in report.skipped}
    report.missing = [k for k in own if k not in incoming and k not in skipped]
    _copy_into(model, incoming)
    label = f"{source}:" if source else ""
    set_origins(model, {k: Origin("pretrained", label + k) for k in incoming})
    return report


def load_state_dict_by_order(
    model: nn.Module, state: dict[str, torch.Tensor], source: str = ""
) -> LoadReport:
    """Load a state dict whose keys are named differently but come in the model's order.

    Every shape must match pairwise; otherwise the orders disagree and nothing is loaded.
    """
    own = model.state_dict()
    if len(own) != len(state):
        raise CheckpointError(f"{source}: {len(state)} tensors in the file, {len(own)} in the model")
    pairs = list(zip(own.items(), state.items(), strict=True))
    for (name, mine), (key, theirs) in pairs:
        if mine.shape != theirs.shape:
            raise CheckpointError(
                f"{source}: tensor order differs at {name} {list(mine.shape)} vs "
                f"{key} {list(theirs.shape)}"
            )
    _copy_into(model, {name: theirs for (name, _), (_, theirs) in pairs})
    set_origins(model, {name: Origin("pretrained", f"{source}:{key}") for (name, _), (key, _) in pairs})
    return LoadReport(loaded=[name for name, _ in own.items()])


@torch.no_grad()
def _copy_into(model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Copy values in place (``copy_``), so nothing aliases the source tensors."""
    live = model.state_dict(keep_vars=True)
    for name, value in tensors.items():
        live[name].copy_(value.to(dtype=live[name].dtype))


def load_weights_file(model: nn.Module, path: str | Path) -> LoadReport:
    """Load a local weights file into ``model`` and report what matched; a file that
    matches none of the model's tensors is an error (another architecture's weights)."""
    state = read_state_dict(path)
    if not state:
        raise CheckpointError(f"{path} holds no tensors")
    report = load_state_dict_into(model, state, source=Path(path).name)
    if not report.loaded:
        reason = (f"all {len(report.skipped)} tensors with matching names have other shapes"
                  if report.skipped else "none of its tensor names are in the model")
        raise CheckpointError(
            f"{path} does not fit this model: {reason} (it is probably for another "
            f"architecture, e.g. {next(iter(state))} ...)")
    return report
