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


class ValidationError(TlguiError, ValueError):
    """A setting, recipe or data set that is out of range; ``field`` names the setting."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class InputSizeError(SurgeryError):
    """A model that runs on none of the input sizes tried."""


REPORT_HINT = ("This is a bug in tlgui, not in your input: please report it with the "
               "details above at the project's issue tracker.")


def user_message(exc: BaseException) -> str:
    """One plain sentence for the user: a TlguiError's own words; for anything else, what
    happened without the Python class name, and how to report it."""
    if isinstance(exc, TlguiError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "no details"
    return f"unexpected error ({text}). {REPORT_HINT}"
