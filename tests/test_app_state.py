"""The app's Qt-free state: one DataIndex for the open folder, the run's exact split for
evaluation, observers told of changes."""

from tlgui.core.data.data_index import index_folder
from tlgui.core.state import AppState

from .test_run_record import single_folder


def test_one_index_serves_every_dock_and_a_reseed_opens_a_new_one(tmp_path):
    folder = single_folder(tmp_path)
    state, seen = AppState(), []
    state.observe("data", seen.append)
    opened = index_folder(folder)  # as the Dataset dock opens it
    state.open_data(opened)
    assert state.data_for(folder, seed=0) is opened  # no second scan
    state.open_data(opened)
    assert seen == [opened]  # the same index again tells no one
    reseeded = state.data_for(folder, seed=7)
    assert reseeded is not opened and reseeded.seed == 7 and seen == [opened, reseeded]
    assert state.data is reseeded


def test_evaluation_uses_the_split_the_run_trained_on(tmp_path):
    folder = single_folder(tmp_path)
    state = AppState()
    trained_on = state.data_for(folder, seed=7, split_ratio=0.3)
    state.start_run(trained_on)
    state.open_data(index_folder(folder))  # the user reopens the folder: seed 0, ratio 0.2
    evaluated = state.evaluation_data(folder, seed=0)
    assert evaluated is trained_on
    assert evaluated.splits["valid"] != state.data.splits["valid"]
