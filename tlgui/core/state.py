"""The app's Qt-free state (napari's ViewerModel is the model): the open experiment and its
undo history, the open data folder's index, the user's corrections to it (relabels and
exclusions from the Clean dock), and the split the current run trains on.

Docks observe it (``observe("data", callback)``) instead of reaching into each other or
into the window; the Qt layer only turns these events into views. The state sits above
every core package: it orchestrates them and nothing in the core imports it.
"""

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tlgui.core.data.corrections import Corrections
from tlgui.core.data.data_index import DataIndex, index_folder
from tlgui.core.model.recipe import Experiment
from tlgui.core.project.history import UndoHistory

EVENTS = ("experiment", "data", "run_data", "corrections")


class AppState:
    def __init__(self) -> None:
        self.experiment: Experiment | None = None
        self.history: UndoHistory | None = None
        self.data: DataIndex | None = None  # the open data folder, as the Dataset dock shows it
        self.run_data: DataIndex | None = None  # the exact split the last run trained on
        self.corrections = Corrections()
        self._observers: dict[str, list[Callable]] = defaultdict(list)

    def observe(self, event: str, callback: Callable) -> None:
        """``callback(value)`` whenever ``event`` (one of EVENTS) changes."""
        if event not in EVENTS:
            raise ValueError(f"unknown state event '{event}'; known: {', '.join(EVENTS)}")
        self._observers[event].append(callback)

    def _changed(self, event: str, value) -> None:
        for callback in list(self._observers[event]):
            callback(value)

    def open_experiment(self, experiment: Experiment | None) -> None:
        """``experiment`` becomes the open one; a new undo history starts."""
        self.experiment = experiment
        self.history = UndoHistory(experiment) if experiment is not None else None
        self._changed("experiment", experiment)

    def open_data(self, index: DataIndex) -> None:
        if index is not self.data:
            self.data = index
            self._changed("data", index)

    def set_corrections(self, corrections: Corrections) -> None:
        """``corrections`` replace the current ones (a project was opened)."""
        self.corrections = corrections
        self.corrections_changed()

    def corrections_changed(self) -> None:
        """Call after a decision, an undo or a redo on ``corrections``."""
        self._changed("corrections", self.corrections)

    def corrected_data(self) -> DataIndex | None:
        """The open data folder's index with the user's corrections applied."""
        return None if self.data is None else self.corrections.apply(self.data)

    def _open_index(self, folder: str | Path, seed: int, split_ratio: float) -> DataIndex | None:
        """The open index when it is ``folder`` split as ``seed`` and ``split_ratio`` say."""
        index = self.data
        if index is None or Path(index.root).resolve() != Path(folder).resolve():
            return None
        if index.layout == "split" and (index.seed, index.split_ratio) != (seed, split_ratio):
            return None
        return index

    def data_for(self, folder: str | Path, *, seed: int, split_ratio: float = 0.2) -> DataIndex:
        """The index of ``folder`` as a run with ``seed`` and ``split_ratio`` splits it, with
        the user's corrections applied: the open one when it is that (no second scan), else
        indexed now and opened (observers hear it: call this on the thread that owns the
        views)."""
        index = self._open_index(folder, seed, split_ratio)
        if index is None:
            index = index_folder(folder, seed=seed, split_ratio=split_ratio)
            self.open_data(index)
        return self.corrections.apply(index)

    def start_run(self, data: DataIndex) -> None:
        """The run about to start trains on ``data``: evaluation uses exactly its split."""
        self.run_data = data
        self._changed("run_data", data)

    def evaluation_data(self, folder: str | Path, *, seed: int) -> DataIndex:
        """The split the last run trained on when ``folder`` is its folder (so a held-out
        image is never one it trained on); else ``folder`` as a new run would split it, with
        the user's corrections. Safe on a worker thread: it tells no observer."""
        run = self.run_data
        if run is not None and Path(run.root).resolve() == Path(folder).resolve():
            return run
        return self.corrections.apply(self._open_index(folder, seed, 0.2)
                                      or index_folder(folder, seed=seed))
