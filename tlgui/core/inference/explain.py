"""Why a model said what it said: Grad-CAM and Grad-CAM++ on the torch.fx graph of any model
tlgui can trace (torchvision, timm, builtin, user models, branched GraphModules).

The target is a graph node, not a module: a module called twice (ResNet's ``relu``) has one
node per call, and a GraphModule's container modules never run as such. The node's output is
detached and made to require grad while the graph runs, so the gradient reaches it with a
frozen body and an input that does not require grad. The default target is every "last"
spatial map feeding the output: one node for a plain network, one per branch for branches
merged by concatenation; their raw maps are summed and normalised once.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import UnidentifiedImageError
from torch import fx

from tlgui.core.data.image_check import open_rgb
from tlgui.core.errors import NoMatchError, SurgeryError
from tlgui.core.inference.heatmaps import overlay, overlay_name, peak_in_image, seen_box
from tlgui.core.inference.predict import unreadable_reason
from tlgui.core.model.graph import ancestors, descendants, output_shapes, trace
from tlgui.core.model.loaded import LoadedModel

METHODS = ("gradcam", "gradcam++")
BATCH = 8


@dataclass
class Explanation:
    """One image's explanation. ``heatmap`` is in the model's input pixels (0..1) and covers
    ``box``, the part of the image the model sees, in the image's own pixels."""

    path: str
    predicted: str = ""
    probability: float = 0.0
    explained: str = ""
    explained_probability: float = 0.0
    layer: str = ""
    method: str = "gradcam"
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    peak_xy: tuple[int, int] = (0, 0)
    heatmap: np.ndarray | None = field(default=None, repr=False)
    error: str = ""

    def as_dict(self) -> dict:
        if self.error:
            return {"path": self.path, "error": self.error}
        return {"path": self.path, "predicted": self.predicted,
                "probability": round(self.probability, 6), "explained": self.explained,
                "explained_probability": round(self.explained_probability, 6),
                "layer": self.layer, "method": self.method, "peak_xy": list(self.peak_xy)}


class _Capture(fx.Interpreter):
    """Runs the graph and hands out the chosen nodes' outputs as leaves that require grad."""

    def __init__(self, module: fx.GraphModule, targets: Sequence[fx.Node]) -> None:
        super().__init__(module, garbage_collect_values=True)
        self.targets = set(targets)
        self.captured: dict[fx.Node, torch.Tensor] = {}

    def run_node(self, node: fx.Node):
        out = super().run_node(node)
        if node in self.targets:
            out = out.detach().requires_grad_(True)
            self.captured[node] = out
        return out


class Explainer:
    """Grad-CAM for one loaded model: traced once, explains any number of images."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.traced = trace(loaded.model)
        graph = self.traced.module.graph
        output = next(n for n in graph.nodes if n.op == "output")
        example = torch.zeros(1, *loaded.input_size, device=_device(loaded))
        shapes = output_shapes(self.traced.module, example)
        feeding = ancestors(output)
        size = tuple(loaded.input_size[1:])
        spatial = [n for n in graph.nodes if n in feeding and n.op != "placeholder"
                   and _is_map(shapes.get(n), size)]
        if not spatial:
            raise SurgeryError(
                f"{type(loaded.model).__name__} has no spatial feature map (channels x height "
                "x width) before its output, so there is nothing for Grad-CAM to show.")
        spatial_set = set(spatial)
        self._nodes = {self.traced.name_of(n): n for n in reversed(spatial)}
        last = [n for n in spatial if not (descendants(n) & spatial_set)]
        if _share_after(self.traced.module, last, feeding, shapes) > 0.25:
            raise SurgeryError(
                f"{type(loaded.model).__name__} works on tokens after its last spatial map "
                f"({self.traced.name_of(last[0])}), as a vision transformer does; Grad-CAM on "
                "tokens is not supported yet.")
        self.default = [self.traced.name_of(n) for n in last]

    @property
    def layers(self) -> list[str]:
        """Every node Grad-CAM can target, the last (nearest the output) first."""
        return list(self._nodes)

    def node_for(self, name: str) -> str:
        """One of ``layers`` for a node name (a module called again has ``_1``, ``_2``...),
        a module's name (its last call) or a container's (its last spatial node)."""
        if name in self._nodes:
            return name
        calls = [n for n, node in self._nodes.items()
                 if (node.op == "call_module" and node.target == name) or n.startswith(name + ".")]
        if calls:
            return calls[0]
        raise NoMatchError(f"'{name}' is not a spatial layer of this model; layers Grad-CAM "
                           f"can use include {', '.join(self.layers[:5])}")

    def explain(self, paths: Sequence[str | Path], *, class_name: str | None = None,
                layers: Sequence[str] | None = None, method: str = "gradcam",
                progress: Callable[[int, int], None] | None = None,
                stop: Callable[[], bool] | None = None) -> list[Explanation]:
        """One explanation per file, for the predicted class or ``class_name``; unreadable
        files get ``error``. ``stop()`` returning True ends it early."""
        if method not in METHODS:
            raise NoMatchError(f"'{method}' is not a method; choose one of {', '.join(METHODS)}")
        names = self.loaded.class_names
        if class_name is not None and class_name not in names:
            raise NoMatchError(f"'{class_name}' is not one of the model's classes "
                               f"({', '.join(names[:10])})")
        chosen = [self.node_for(n) for n in layers] if layers else self.default
        results: dict[int, Explanation] = {}
        pending: list[tuple[int, object]] = []
        for i, path in enumerate(paths):
            if stop is not None and stop():
                break
            try:
                pending.append((i, open_rgb(path)))
            except (OSError, UnidentifiedImageError, ValueError) as exc:
                results[i] = Explanation(str(path), error=f"cannot read image: "
                                                          f"{unreadable_reason(exc)}")
            if len(pending) == BATCH or i == len(paths) - 1:
                self._batch(paths, pending, chosen, class_name, method, results)
                pending = []
                if progress is not None:
                    progress(i + 1, len(paths))
        if pending:
            self._batch(paths, pending, chosen, class_name, method, results)
        return [results[i] for i in sorted(results)]

    def _batch(self, paths, pending, chosen: list[str], class_name: str | None, method: str,
               results: dict[int, Explanation]) -> None:
        if not pending:
            return
        images = [image for _, image in pending]
        batch = torch.stack([self.loaded.transform(image) for image in images])
        maps, probs = self.heatmaps(batch, chosen, class_name, method)
        names = self.loaded.class_names
        for (i, image), heat, p in zip(pending, maps, probs, strict=True):
            top = int(p.argmax())
            target = names.index(class_name) if class_name is not None else top
            box = seen_box(self.loaded.transform, image.width, image.height)
            results[i] = Explanation(
                str(paths[i]), predicted=_label(names, top), probability=float(p[top]),
                explained=_label(names, target), explained_probability=float(p[target]),
                layer=" + ".join(chosen), method=method, box=box,
                peak_xy=peak_in_image(heat, box), heatmap=heat)

    def heatmaps(self, batch: torch.Tensor, layers: Sequence[str], class_name: str | None = None,
                 method: str = "gradcam") -> tuple[np.ndarray, np.ndarray]:
        """Maps in the input's pixels (N x H x W, each 0..1) and class probabilities (N x K)
        for a batch of transformed images; the model's train/eval flags are restored."""
        gm = self.traced.module
        targets = [self._nodes[name] for name in layers]
        modes = {m: m.training for m in gm.modules()}
        try:
            gm.eval()
            capture = _Capture(gm, targets)
            with torch.enable_grad():
                logits = capture.run(batch.to(_device(self.loaded)))
                probs = logits.detach().float().softmax(1)
                picked = (torch.full((len(batch),), self.loaded.class_names.index(class_name))
                          if class_name is not None else probs.argmax(1)).to(logits.device)
                score = logits.gather(1, picked[:, None]).sum()
                acts = [capture.captured[n] for n in targets]
                grads = torch.autograd.grad(score, acts, allow_unused=True)
        finally:
            for module, training in modes.items():
                module.training = training
        size = batch.shape[-2:]
        total = torch.zeros(len(batch), *size)
        for act, grad in zip(acts, grads, strict=True):
            if grad is not None:
                cam = _cam(act.detach().float(), grad.float(), method)
                total += torch.nn.functional.interpolate(
                    cam[:, None].cpu(), size=size, mode="bilinear", align_corners=False)[:, 0]
        peak = total.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
        return (total / peak).numpy(), probs.cpu().numpy()


def write_overlays(explanations: Sequence[Explanation], out: Path, opacity: float = 0.5
                   ) -> list[Path | None]:
    """One overlay PNG per explained image in ``out`` (None where the image was unreadable)."""
    from tlgui.core.errors import TlguiError
    from tlgui.core.files import write_atomically

    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    written: list[Path | None] = []
    for e in explanations:
        if e.error or e.heatmap is None:
            written.append(None)
            continue
        picture = overlay(open_rgb(e.path), e.heatmap, e.box, opacity)
        written.append(write_atomically(out / overlay_name(e.path, taken),
                                        lambda temp, p=picture: p.save(temp, format="PNG"),
                                        TlguiError))
    return written


def _cam(act: torch.Tensor, grad: torch.Tensor, method: str) -> torch.Tensor:
    """The raw class-activation map (N x h x w) from a layer's output and its gradient."""
    if method == "gradcam":
        weights = grad.mean((2, 3))
    else:  # Grad-CAM++ (Chattopadhay et al., 2018), in the closed form for an exp score
        g2, g3 = grad.pow(2), grad.pow(3)
        denominator = 2 * g2 + act.sum((2, 3), keepdim=True) * g3
        alpha = torch.where(grad != 0, g2 / torch.where(denominator != 0, denominator,
                                                        torch.ones_like(denominator)), 0)
        weights = (alpha * grad.clamp_min(0)).sum((2, 3))
    return (weights[:, :, None, None] * act).sum(1).clamp_min(0)


def _is_map(shape: tuple[int, ...] | None, size: tuple[int, int]) -> bool:
    """A channels x height x width map whose height and width are the input's divided by one
    stride (attention scores and channels-last tokens are not)."""
    if shape is None or len(shape) != 4 or min(shape[2:]) < 2:
        return False
    stride = round(size[0] / shape[2])
    return stride >= 1 and all(math.ceil(side / stride) == got or side // stride == got
                               for side, got in zip(size, shape[2:], strict=True))


def _share_after(gm: fx.GraphModule, last: list[fx.Node], feeding: set[fx.Node],
                 shapes: dict) -> float:
    """The share of the parameters in layers after ``last`` that see more than a pooled
    vector: small for a network that pools into its head, most of a transformer."""
    modules = dict(gm.named_modules())
    after = set().union(*(descendants(n) for n in last)) & feeding
    count = 0
    for node in after:
        inputs = [shapes.get(i, ()) for i in node.all_input_nodes]
        if node.op == "call_module" and any(len(s) > 2 for s in inputs):
            count += sum(p.numel() for p in modules[node.target].parameters())
    return count / max(1, sum(p.numel() for p in gm.parameters()))


def _device(loaded: LoadedModel) -> torch.device:
    param = next(loaded.model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _label(names: list[str], index: int) -> str:
    return names[index] if index < len(names) else f"class_{index}"
