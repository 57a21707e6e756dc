"""Errors with messages meant for the user: what went wrong and what would work."""


class TlguiError(Exception):
    """Base class of every error tlgui reports to a user in plain words."""


class UnknownModelError(TlguiError, KeyError):
    """A model name that no source knows."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class WeightsUnavailableError(TlguiError):
    """Pretrained weights that are neither cached nor downloadable here."""


class CheckpointError(TlguiError):
    """A weights file that cannot be read as a checkpoint."""


class UnsafeCheckpointError(CheckpointError):
    """A pickle that would run code when loaded."""


class FactoryError(TlguiError):
    """A user's Python model factory that is not trusted, missing or failing."""


class NoMatchError(TlguiError, LookupError):
    """A layer name, pattern or index that matches nothing in the model."""


class SurgeryError(TlguiError):
    """A model change that cannot be made on this network."""
