"""Writing a file so that a failure never leaves half of it: into a temporary file beside
the target, then renamed into place."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from tlgui.core.errors import TlguiError

CACHE_ENV = "TLGUI_CACHE_DIR"


def cache_home() -> Path:
    """Where tlgui keeps what it can make again (decoded images, thumbnails, the app's run
    folders): ``$TLGUI_CACHE_DIR``, else ``~/.cache/tlgui``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tlgui")


def write_atomically(path: Path, write: Callable[[str], None], error: type[TlguiError]) -> Path:
    """``write(temp)`` fills a temporary file beside ``path``, which then replaces ``path``.
    A full disk or a denied folder raises ``error`` with one sentence; the previous file
    stays as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        write(temp)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise error(write_failure(path, exc)) from exc
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomically(path: str | Path, text: str,
                          error: type[TlguiError] = TlguiError) -> Path:
    """``text`` (UTF-8) into ``path`` through :func:`write_atomically`."""
    return write_atomically(Path(path), lambda temp: Path(temp).write_text(text, "utf-8"), error)


def write_failure(path: Path, exc: OSError) -> str:
    """One sentence for a failed atomic write: why, and that the previous file is intact."""
    why = exc.strerror or str(exc) or "input/output error"
    kept = "the previous file is intact" if path.exists() else "nothing was written"
    return f"could not write {path} ({why.lower()}); {kept}"
