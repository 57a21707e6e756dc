"""Following a run that another process writes: new lines of its ``events.jsonl``."""

import json
from pathlib import Path


class EventTail:
    """Reads the events appended since the last call; a line still being written waits."""

    def __init__(self, run_folder: str | Path) -> None:
        self.path = Path(run_folder) / "events.jsonl"
        self.offset = 0
        self.pending = b""

    def read_new(self) -> list[dict]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        lines = (self.pending + chunk).split(b"\n")
        self.pending = lines.pop()  # empty after a complete line
        events = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a damaged line is skipped, the rest still shows
            if isinstance(event, dict) and "event" in event:
                events.append(event)
        return events
