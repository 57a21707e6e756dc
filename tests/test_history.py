import pytest
import torch

from tlgui.core import NoMatchError
from tlgui.core.model.recipe import build
from tlgui.core.project.history import UndoHistory, describe


@pytest.fixture
def history():
    return UndoHistory(build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"}]))


def trainable(history) -> set[str]:
    return {n for n, p in history.experiment.model.named_parameters() if p.requires_grad}


def test_freeze_undo_redo_round_trips(history):
    everything = trainable(history)
    history.do({"op": "freeze", "selectors": ["conv*"]})
    frozen_state = trainable(history)
    assert "conv1.weight" not in frozen_state and history.undo_text() == "freeze conv*"
    history.undo()
    assert trainable(history) == everything and history.experiment.ops == [
        {"op": "load", "model": "builtin:cifar_net", "weights": "none"}]
    history.redo()
    assert trainable(history) == frozen_state and history.experiment.ops[-1]["op"] == "freeze"


def test_structural_steps_swap_whole_models(history):
    exp = history.experiment
    original = exp.model
    history.do({"op": "branch", "fork": "x", "join": "relu_3", "init": "fresh"})
    branched = exp.model
    assert branched is not original and hasattr(branched, "branch")
    history.do({"op": "freeze", "selectors": ["branch"]})
    history.undo()
    history.undo()
    assert exp.model is original and not history.can_undo()
    history.redo()
    assert exp.model is branched and history.redo_text().startswith("freeze")
    history.redo()
    assert not exp.model.branch.fc1.weight.requires_grad


def test_replace_head_undo_restores_the_old_head(history):
    exp = history.experiment
    old_weight = exp.model.fc3.weight.clone()
    history.do({"op": "replace_head", "num_classes": 3})
    assert exp.model.fc3.out_features == 3
    history.undo()
    assert exp.model.fc3.out_features == 10 and torch.equal(exp.model.fc3.weight, old_weight)
    history.redo()
    assert exp.model.fc3.out_features == 3


def test_a_failing_operation_records_nothing(history):
    with pytest.raises(NoMatchError):
        history.do({"op": "freeze", "selectors": ["nothing*"]})
    assert not history.can_undo() and len(history.experiment.ops) == 1


def test_new_action_clears_redo(history):
    history.do({"op": "freeze", "selectors": ["fc1"]})
    history.undo()
    history.do({"op": "freeze", "selectors": ["fc2"]})
    assert not history.can_redo()
    assert describe({"op": "preset", "name": "head-only"}) == "preset head-only"
