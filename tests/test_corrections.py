"""The user's corrections to a data set (issue 21): relabels and exclusions applied to the
index without touching a file, one undo step per decision, kept in projects and run
records, and exported as a CSV that ``tlgui train --data`` reads."""

import json

import pytest

from tlgui.core.data.corrections import Corrections, write_csv
from tlgui.core.data.data_index import index_folder
from tlgui.core.errors import TlguiError
from tlgui.core.state import AppState

from .helpers import file_hashes, make_image_folder


@pytest.fixture
def data(tmp_path):
    return index_folder(make_image_folder(tmp_path / "data", per_class=6, val_per_class=3))


def _label(index, path):
    return next(index.classes[y] for s in index.splits.values() for p, y in s if p == path)


def test_relabel_and_exclude_change_the_index_not_the_files(data):
    before = file_hashes(data.root)
    red, blue = data.classes.index("red"), data.classes.index("blue")
    relabelled = next(p for p, y in data.splits["train"] if y == red)
    excluded = [p for p, y in data.splits["valid"] if y == blue][:2]
    corrections = Corrections()
    corrections.decide(data, [relabelled], "relabel", "blue")
    corrections.decide(data, excluded, "exclude")
    corrections.decide(data, [data.splits["train"][-1][0]], "keep")
    fixed = corrections.apply(data)
    assert _label(fixed, relabelled) == "blue" and _label(data, relabelled) == "red"
    assert len(fixed.splits["valid"]) == len(data.splits["valid"]) - 2
    assert not set(excluded) & {p for p, _ in fixed.splits["valid"]}
    assert len(fixed.splits["train"]) == len(data.splits["train"])  # keep changes nothing
    assert fixed.classes == data.classes and fixed.fingerprint() != data.fingerprint()
    assert fixed.corrected == corrections.as_dict()
    assert corrections.counts() == {"relabel": 1, "exclude": 2, "keep": 1}
    assert file_hashes(data.root) == before


def test_each_decision_is_one_undo_step_even_for_several_files(data):
    corrections = Corrections()
    files = [p for p, _ in data.splits["valid"][:3]]
    corrections.decide(data, files, "exclude")
    corrections.decide(data, files[:1], "relabel", "red")
    assert corrections.decision(data, files[0]) == {"action": "relabel", "label": "red"}
    assert corrections.undo() == [corrections.key(data, files[0])]
    assert corrections.decision(data, files[0]) == {"action": "exclude"}
    assert len(corrections.undo()) == 3 and corrections.decisions == {}
    assert corrections.apply(data) is data
    assert len(corrections.redo()) == 3
    assert len(corrections.apply(data).splits["valid"]) == len(data.splits["valid"]) - 3
    assert len(corrections.undo()) == 3
    assert not corrections.can_undo() and corrections.undo() == []


def test_bad_decisions_get_a_sentence(data, tmp_path):
    corrections = Corrections()
    file = data.splits["train"][0][0]
    with pytest.raises(TlguiError, match="classes are"):
        corrections.decide(data, [file], "relabel", "green")
    corrections.decide(data, [file], "exclude")
    other = index_folder(make_image_folder(tmp_path / "other", per_class=3, val_per_class=1))
    with pytest.raises(TlguiError, match="these corrections are for"):
        corrections.decide(other, [other.splits["train"][0][0]], "exclude")
    assert corrections.apply(other) is other  # corrections of another folder do not apply
    with pytest.raises(TlguiError, match="damaged"):
        Corrections.from_dict({"root": "x", "decisions": {"a.jpg": {"action": "burn"}}})


def test_the_cleaned_csv_trains_as_the_corrected_index(data, tmp_path, capsys):
    from tlgui.cli import main

    corrections = Corrections()
    corrections.decide(data, [data.splits["train"][0][0]], "relabel", "blue")
    corrections.decide(data, [data.splits["valid"][0][0]], "exclude")
    fixed = corrections.apply(data)
    csv = write_csv(fixed, tmp_path / "cleaned.csv")
    again = index_folder(csv)
    assert again.classes == fixed.classes
    assert {s: sorted((p.resolve(), y) for p, y in files) for s, files in again.splits.items()} \
        == {s: sorted((p.resolve(), y) for p, y in files) for s, files in fixed.splits.items()}
    out = tmp_path / "run"
    assert main(["train", "--model", "builtin:vgg64", "--weights", "none", "--data", str(csv),
                 "--epochs", "1", "--batch-size", "4", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["data"] == str(csv)


def test_runs_and_projects_keep_the_corrections(data, tmp_path):
    from tlgui.core.model.recipe import build
    from tlgui.core.project.project import Project, load_project, save_project
    from tlgui.core.runs.record import read_split, split_record

    corrections = Corrections()
    corrections.decide(data, [data.splits["valid"][0][0]], "exclude")
    fixed = corrections.apply(data)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "split.json").write_text(json.dumps(split_record(fixed)))
    recorded = read_split(tmp_path / "run")
    assert recorded.fingerprint() == fixed.fingerprint()
    assert recorded.corrected == corrections.as_dict()
    experiment = build([{"op": "load", "model": "builtin:vgg64", "weights": "none"}])
    path = save_project(tmp_path / "p.tlgui", Project(experiment, data_folder=str(data.root),
                                                      corrections=corrections))
    assert load_project(path).corrections.as_dict() == corrections.as_dict()


def test_the_app_state_trains_and_evaluates_on_the_corrected_data(data):
    state, heard = AppState(), []
    state.observe("corrections", heard.append)
    state.open_data(data)
    state.corrections.decide(data, [data.splits["valid"][0][0]], "exclude")
    state.corrections_changed()
    assert heard == [state.corrections]
    for index in (state.data_for(data.root, seed=0), state.evaluation_data(data.root, seed=0),
                  state.corrected_data()):
        assert len(index.splits["valid"]) == len(data.splits["valid"]) - 1
    assert state.data is data  # the folder as it is stays what the state opened
