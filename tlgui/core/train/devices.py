"""Choosing where to compute: CUDA, then Apple MPS, then the CPU."""

import torch


def pick_device(choice: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit choice that is not
    available falls back to the CPU with no error (callers show which was used)."""
    choice = choice.lower()
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if choice == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if choice.startswith("cuda"):
        return torch.device(choice if cuda else "cpu")
    if choice == "mps":
        return torch.device("mps" if mps else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    raise ValueError(f"unknown device '{choice}'; choose auto, cpu, cuda or mps")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type
