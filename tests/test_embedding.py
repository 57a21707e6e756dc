"""The embedding map's core: PCA of the features, point-in-lasso, the map of a data set with
its coordinates kept beside the features (and recomputed when that file is damaged)."""

import numpy as np
import pytest

from tlgui.core.cleaning.embedding import MAP_FILE, embedding_map, inside, project
from tlgui.core.data.data_index import index_folder
from tlgui.core.errors import NoMatchError
from tlgui.core.model.recipe import build

from .helpers import make_image_folder


def test_pca_finds_the_two_widest_directions_and_is_the_same_every_time():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3000, 64)).astype(np.float32)
    values[:, 5] *= 10
    values[:, 9] *= 6
    xy = project(values)
    assert xy.shape == (3000, 2) and xy.dtype == np.float32
    assert abs(np.corrcoef(xy[:, 0], values[:, 5])[0, 1]) > 0.99
    assert abs(np.corrcoef(xy[:, 1], values[:, 9])[0, 1]) > 0.99
    assert np.array_equal(project(values), xy)


def test_a_method_whose_package_is_missing_says_how_to_get_it(monkeypatch):
    import tlgui.core.cleaning.embedding as embedding

    monkeypatch.setattr(embedding, "available_methods", lambda: ["pca"])
    with pytest.raises(NoMatchError, match=r"install tlgui\[map\]"):
        project(np.zeros((10, 4)), "umap")


def test_inside_a_lasso():
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], dtype=float)
    points = np.array([[1, 1], [3, 1], [-0.5, 1], [1.9, 1.9], [1, 2.5]])
    assert inside(points, square).tolist() == [True, False, False, True, False]


def test_the_map_of_a_data_set_is_kept_with_its_features(tmp_path):
    data = index_folder(make_image_folder(tmp_path / "data", per_class=10, val_per_class=4,
                                          classes=("blue", "green", "red")))
    experiment = build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"},
                        {"op": "replace_head", "num_classes": 3},
                        {"op": "preset", "name": "head-only"}])
    cache = tmp_path / "cache"
    first = embedding_map(experiment, data, cache_dir=cache)
    files = {str(p) for split in data.splits.values() for p, _ in split}
    assert set(first.paths) == files and first.xy.shape == (len(files), 2)
    assert sorted(set(first.splits)) == ["train", "val"] and not first.reused
    assert first.classes == ["blue", "green", "red"]
    assert first.predicted.shape == (len(files),) and first.predicted.max() < 3
    stored = next(cache.glob("*/" + MAP_FILE.format(method="pca")))
    np.testing.assert_array_equal(np.load(stored), first.xy)
    import tlgui.core.cleaning.embedding as embedding

    embedding._MEMORY.clear()
    again = embedding_map(experiment, data, cache_dir=cache)
    assert again.reused and np.array_equal(again.xy, first.xy)
    embedding._MEMORY.clear()
    stored.write_bytes(b"damaged")
    mended = embedding_map(experiment, data, cache_dir=cache)
    assert not mended.reused and np.allclose(mended.xy, first.xy, atol=1e-4)


def test_t_sne_from_the_optional_extra_separates_groups_the_same_way_every_time():
    pytest.importorskip("sklearn", reason="t-SNE comes with the optional tlgui[map] extra")
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, (200, 32)), rng.normal(5, 1, (200, 32))])
    xy = project(values.astype(np.float32), "tsne")
    apart = np.linalg.norm(xy[:200].mean(0) - xy[200:].mean(0))
    assert xy.shape == (400, 2) and apart > 2 * xy[:200].std(0).max()
    assert np.array_equal(project(values.astype(np.float32), "tsne"), xy)
