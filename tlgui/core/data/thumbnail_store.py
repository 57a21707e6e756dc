"""Thumbnails on disk: one SQLite file of small JPEGs keyed by the image's path, size, change
time and the thumbnail's side, the oldest evicted beyond ``MAX_ENTRIES``: one file instead of
a PNG a thumbnail in one folder, about 2.5 KB a 96-pixel photo thumbnail against 8 KB.

Every thread gets its own connection; writes wait for each other (WAL journal), reads do
not. A damaged file is set aside and started again: it only holds what can be made again."""

import os
import sqlite3
import threading
import time
from pathlib import Path

MAX_ENTRIES = 200_000
EVICT_EVERY = 1000  # inserts between checks of the bound
SCHEMA = ("CREATE TABLE IF NOT EXISTS thumbs (key TEXT PRIMARY KEY, jpeg BLOB NOT NULL, "
          "used REAL NOT NULL)")


class ThumbnailStore:
    def __init__(self, path: Path, max_entries: int = MAX_ENTRIES) -> None:
        self.path, self.max_entries = Path(path), max_entries
        self._local = threading.local()
        self._inserts = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(path: str, side: int) -> str:
        """The image's path, size and change time (one stat), and the thumbnail's side."""
        stat = os.stat(path)
        return f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{side}"

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                connection = self._open()
            except sqlite3.DatabaseError:  # not a database: set aside, start afresh
                os.replace(self.path, self.path.with_suffix(".damaged"))
                connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(SCHEMA)
        return connection

    def get(self, key: str) -> bytes | None:
        try:
            row = self._connection().execute(
                "SELECT jpeg FROM thumbs WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return bytes(row[0]) if row else None

    def put(self, key: str, jpeg: bytes) -> None:
        connection = self._connection()
        try:
            connection.execute("INSERT OR REPLACE INTO thumbs VALUES (?, ?, ?)",
                               (key, jpeg, time.time()))
        except sqlite3.DatabaseError:
            return  # a full disk or a busy file: the thumbnail is made again next time
        with self._lock:
            self._inserts += 1
            due = self._inserts % EVICT_EVERY == 0
        if due:
            self.evict()

    def evict(self) -> int:
        """Drop the oldest entries beyond the bound; how many went."""
        connection = self._connection()
        count = connection.execute("SELECT COUNT(*) FROM thumbs").fetchone()[0]
        extra = count - self.max_entries
        if extra > 0:
            connection.execute("DELETE FROM thumbs WHERE key IN (SELECT key FROM thumbs "
                               "ORDER BY used LIMIT ?)", (extra,))
        return max(0, extra)

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM thumbs").fetchone()[0]
