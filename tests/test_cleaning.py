"""Cleaning a data set (issue 21): flipped labels rank near the top, planted copies and
leaks between splits are found, outliers stand out, and the user's files never change."""

import json

import numpy as np
import pytest

from tlgui.core.cleaning.label_issues import label_issues, out_of_fold_probabilities
from tlgui.core.cleaning.neighbours import outlier_scores, outliers

from .conftest import DEMO_DATA
from .helpers import file_hashes as _hashes
from .helpers import plant_errors

FLIPPED = 6


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return plant_errors(tmp_path_factory.mktemp("clean") / "data")


def test_clean_finds_flips_copies_leaks_and_outliers_and_changes_no_file(planted, capsys):
    from tlgui.cli import main

    root, flipped, original, recompressed_from = planted
    before = _hashes(root)
    assert main(["clean", str(root), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert _hashes(root) == before  # nothing moved, renamed, rewritten or deleted
    top = [issue["path"] for issue in found["label_issues"][:2 * FLIPPED]]
    caught = sum(str(path) in top for path in flipped)
    print(f"{caught} of {FLIPPED} flipped labels in the top {2 * FLIPPED} label issues")
    assert caught >= FLIPPED - 2
    groups = [set(d["paths"]) for d in found["duplicates"]]
    leak = {str(original), str(root / "val" / "ants" / "same_bytes.jpg"),
            str(root / "val" / "ants" / "cropped.jpg")}
    assert any(leak <= g for g in groups), found["duplicates"]
    inside = {str(recompressed_from), str(root / "train" / "bees" / "recompressed.jpg")}
    assert any(inside <= g for g in groups)
    leaks = [d for d in found["duplicates"] if d["leak"]]
    assert leaks and found["duplicates"][0]["leak"]  # leaks come first
    assert all(set(d["splits"]) == {"train", "val"} for d in leaks)
    assert not any(d["leak"] for d in found["duplicates"] if inside <= set(d["paths"]))
    assert str(root / "val" / "bees" / "blank.jpg") in [o["path"] for o in found["outliers"]]
    assert found["settings"]["folds"] == 5 and found["settings"]["images"] == 184


def test_confident_learning_on_made_probabilities():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (3, 8))
    labels = np.repeat(np.arange(3), 40)
    features = centres[labels] + rng.normal(0, 1, (120, 8))
    given = labels.copy()
    given[[0, 50, 100]] = [1, 2, 0]  # three flipped labels
    probabilities = out_of_fold_probabilities(features, given, 3, folds=5, seed=1)
    issues = label_issues(probabilities, given)
    assert {i.index for i in issues[:3]} == {0, 50, 100}
    assert [(i.given, i.suggested) for i in sorted(issues[:3], key=lambda i: i.index)] == \
        [(1, 0), (2, 1), (0, 2)]
    again = out_of_fold_probabilities(features, given, 3, folds=5, seed=1)
    assert np.array_equal(probabilities, again)  # seeded: the same run twice


def test_an_image_far_from_all_others_is_an_outlier():
    rng = np.random.default_rng(0)
    features = rng.normal(0, 1, (60, 16)) + 5
    features[17] = -features[17] * 4
    assert outliers(outlier_scores(features))[:1] == [17]


def test_clean_refuses_bad_options_in_one_sentence(capsys):
    from tlgui.cli import main

    assert main(["clean", str(DEMO_DATA), "--folds", "1"]) == 2
    err = capsys.readouterr().err
    assert "at least 2" in err and "Traceback" not in err
