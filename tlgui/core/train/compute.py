"""How a run computes: its precision, its memory format and its determinism.

Mixed precision: which dtype a device computes in when ``amp`` is on, and the loss scaler
that goes with it. One rule for training, feature caching, evaluation and predict:

- CUDA with compute capability 8.0 or newer (Ampere on): bfloat16, no loss scaling.
- Older CUDA GPUs: float16 with a GradScaler (their bfloat16 is emulated, and slow;
  ``torch.cuda.is_bf16_supported()`` counts emulation as support, so it is not asked).
- CPU: bfloat16 where the processor has native bfloat16 instructions (AVX512-BF16 or AMX, as
  oneDNN reports them); float32 elsewhere, said in one line.
- Apple MPS: float32 (its autocast covers too few operations to pay).

Losses are computed in float32 in every case; weights stay float32 (autocast casts per
operation), so freezing and the integrity check see exactly what they see without it.
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Precision:
    device_type: str
    dtype: torch.dtype | None = None  # None: float32
    note: str = ""  # why float32 although mixed precision was asked for, or ""

    @property
    def scaled(self) -> bool:
        """Whether gradients need loss scaling (float16 underflows without it)."""
        return self.dtype == torch.float16

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scaler(self) -> torch.amp.GradScaler:
        """One per run: its scale carries over unfreezing phases and resumes."""
        return torch.amp.GradScaler(self.device_type, enabled=self.scaled)

    def describe(self) -> str:
        return {None: "float32", torch.bfloat16: "bfloat16 autocast",
                torch.float16: "float16 autocast with loss scaling"}[self.dtype]


def cpu_has_native_bf16() -> bool:
    """Whether this processor computes bfloat16 natively (oneDNN's own check)."""
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def precision_for(device: torch.device, amp: bool) -> Precision:
    """The precision a run on ``device`` computes in; ``amp`` False always means float32."""
    kind = device.type
    if not amp:
        return Precision(kind)
    if kind == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        return Precision(kind, torch.bfloat16 if major >= 8 else torch.float16)
    if kind == "cpu":
        if cpu_has_native_bf16():
            return Precision(kind, torch.bfloat16)
        return Precision(kind, note="mixed precision off: this processor has no native "
                                    "bfloat16 instructions, so float32 is faster; "
                                    "training in float32")
    return Precision(kind, note=f"mixed precision is not used on {kind}; training in float32")


def channels_last_refusal(model: nn.Module, image: torch.Tensor) -> str | None:
    """Why ``model`` cannot run on channels-last input (its first error line), or None.
    Models of one's own often ``view`` a convolution's output, which a channels-last tensor
    refuses; one image through the model in eval mode finds out before training starts."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            model(image.unsqueeze(0).contiguous(memory_format=torch.channels_last))
        return None
    except RuntimeError as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    finally:
        for module, training in modes.items():
            module.training = training


def use_channels_last(model: nn.Module, image: torch.Tensor, say: Callable[[str], None]
                      ) -> bool:
    """Put a model with convolutions into channels-last format when it runs that way;
    True when it did. ``image`` is one input on the model's device."""
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return False
    model.to(memory_format=torch.channels_last)
    refusal = channels_last_refusal(model, image)
    if refusal is None:
        return True
    model.to(memory_format=torch.contiguous_format)
    say(f"channels-last off: this model's forward refuses it ({refusal})")
    return False


def fast_forward(model: nn.Module, device: torch.device, first: torch.Tensor, *,
                 amp: bool = True, channels_last: bool = True
                 ) -> Callable[[torch.Tensor], torch.Tensor]:
    """``model``'s forward for inference the way this machine computes fastest (the
    precision and memory format a run would use), returning float32 outputs; ``first`` is
    one input image, used to check that the model takes channels-last input."""
    precision = precision_for(device, amp)
    layout = torch.channels_last if channels_last and use_channels_last(
        model, first.to(device), lambda text: None) else torch.contiguous_format

    def forward(images: torch.Tensor) -> torch.Tensor:
        with precision.autocast():
            return model(images.to(device).contiguous(memory_format=layout)).float()

    return forward


def set_deterministic(on: bool, device: torch.device, say: Callable[[str], None]
                      ) -> Callable[[], None]:
    """Same seed, same run on CUDA too, at a cost: some kernels are slower or refuse.
    Otherwise cuDNN times its convolution kernels once per input shape and keeps the
    fastest (the shapes are fixed: every image is cropped to the model's size). Returns
    what puts the process's previous settings back."""
    saved = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not on
        if on:
            say("deterministic algorithms on: CUDA training is slower (deterministic kernels, "
                "no cuDNN autotuning) and an operation without a deterministic version stops "
                "the run with its name")
    torch.use_deterministic_algorithms(on)

    def restore() -> None:
        torch.use_deterministic_algorithms(saved[0])
        torch.backends.cudnn.benchmark = saved[1]

    return restore
