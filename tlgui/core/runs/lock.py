"""A run folder is written by one process at a time: ``RUN/.lock`` names the holder.

A second run, resume or grid cell into a locked folder is refused with one sentence that
names the holder; a lock left by a process that no longer runs (killed, crashed) is taken
over with a log line.
"""

import json
import os
import socket
import time
from pathlib import Path

from tlgui.core.errors import TlguiError

LOCK_FILE = ".lock"


class RunLockedError(TlguiError):
    """The run folder is being written by another live process."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class RunLock:
    """``with RunLock(folder, say):`` holds the folder's lock for the block."""

    def __init__(self, folder: str | Path, say=lambda text: None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.say = say
        self.held = False

    def holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise RunLockedError(f"{self.folder} is a file, not a run folder; choose another "
                                 "--out")
        self.folder.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(3):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._refuse_or_take_over()
                continue
            with os.fdopen(handle, "w") as out:
                json.dump(me, out)
            self.held = True
            return
        raise RunLockedError(f"could not lock {self.folder}: another process keeps taking it")

    def _refuse_or_take_over(self) -> None:
        holder = self.holder()
        if holder is None:  # being written this instant, or damaged: look again once
            time.sleep(0.05)
            holder = self.holder()
        here = holder is not None and holder.get("host") == socket.gethostname()
        if holder is not None and (not here or _alive(int(holder.get("pid", -1)))):
            since = time.strftime("%Y-%m-%d %H:%M", time.localtime(holder.get("since", 0)))
            raise RunLockedError(
                f"{self.folder} is being written by process {holder.get('pid')} on "
                f"{holder.get('host')} (since {since}); wait for it to finish or choose "
                "another --out")
        self.say(f"taking over the lock of {self.folder}: process "
                 f"{holder.get('pid') if holder else '?'} that held it has ended")
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
