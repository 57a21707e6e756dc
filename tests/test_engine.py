"""The training engine (issue 3): events, stop, caching, resume, failures, integrity."""

import math
import os

import pytest
import torch

from tlgui.core import load_model, replace_head
from tlgui.core.config import TrainConfig, UnfreezeStep
from tlgui.core.data import image_check
from tlgui.core.data.data_index import index_folder
from tlgui.core.model.recipe import build
from tlgui.core.train.engine import Trainer
from tlgui.core.train.train_events import StopToken, TrainListener

from .helpers import make_image_folder, write_broken_files


class Recorder(TrainListener):
    def __init__(self, stop_after_batches: int | None = None, stop: StopToken | None = None):
        self.events: list[str] = []
        self.messages: list[str] = []
        self.batches = 0
        self.stop_after, self.stop = stop_after_batches, stop
        self.errors: list[str] = []

    def on_fit_start(self, config, epochs, batches):
        self.events.append("fit_start")

    def on_epoch_start(self, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_batch_end(self, stats):
        self.batches += 1
        if self.stop_after is not None and self.batches == self.stop_after:
            self.stop.stop()

    def on_validation_end(self, stats):
        self.events.append(f"validation {stats.epoch}")
        self.confusion = stats.confusion

    def on_epoch_end(self, stats):
        self.events.append(f"epoch_end {stats.epoch}")

    def on_message(self, text):
        self.messages.append(text)

    def on_exception(self, error, message):
        self.errors.append(message)

    def on_fit_end(self, result):
        self.events.append("fit_end")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("data"), per_class=10, val_per_class=4)


def head_only(spec: str = "builtin:vgg64", weights: str = "none"):
    return build([{"op": "load", "model": spec, "weights": weights},
                  {"op": "replace_head", "num_classes": 2},
                  {"op": "preset", "name": "head-only"}])


def fit(exp, folder, listeners=(), stop=None, resume=None, **config):
    config.setdefault("epochs", 2)
    config.setdefault("batch_size", 8)
    trainer = Trainer(exp.model, index_folder(folder), exp.loaded.transform,
                      TrainConfig(**config), listeners=list(listeners), stop=stop,
                      original=exp.original)
    return trainer, trainer.fit(resume_from=resume)


def metrics(result):
    return [(h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy) for h in result.history]


def test_events_are_paired_and_integrity_passes(folder):
    exp, recorder = head_only(), Recorder()
    trainer, result = fit(exp, folder, [recorder], lr=0.01, optimizer="sgd")
    assert recorder.events == ["fit_start", "epoch_start 0", "validation 0", "epoch_end 0",
                               "epoch_start 1", "validation 1", "epoch_end 1", "fit_end"]
    assert result.error is None and len(result.history) == 2
    assert trainer.integrity.passed and not trainer.integrity.original_changed
    assert trainer.integrity.original_tensors == len(exp.original.state_dict())
    assert len(recorder.confusion) == 2 and sum(map(sum, recorder.confusion)) == 8


def test_cached_and_uncached_training_give_the_same_metrics(folder):
    torch.manual_seed(0)
    cached_exp = head_only()
    uncached_exp = head_only()
    uncached_exp.model.load_state_dict(cached_exp.model.state_dict())
    # float32: features are computed 64 images a batch, training passes 8, and bfloat16
    # rounds differently per batch shape on a GPU
    common = dict(augment="none", lr=0.05, optimizer="sgd", amp=False, deterministic=True)
    _, cached = fit(cached_exp, folder, cache="on", **common)
    _, uncached = fit(uncached_exp, folder, cache="off", **common)
    assert all(h.cached for h in cached.history) and not any(h.cached for h in uncached.history)
    for a, b in zip(metrics(cached), metrics(uncached), strict=True):
        assert list(a) == pytest.approx(list(b), rel=1e-4, abs=1e-5)
    for name, tensor in cached_exp.model.state_dict().items():
        assert torch.allclose(tensor, uncached_exp.model.state_dict()[name], atol=1e-5), name


def test_stop_token_stops_within_one_batch_and_pairs_events(folder):
    stop = StopToken()
    recorder = Recorder(stop_after_batches=2, stop=stop)
    trainer, result = fit(head_only(), folder, [recorder], stop=stop, epochs=3, cache="off",
                          augment="light")
    # a batch is announced once the next step is queued (so a GPU never waits for the
    # announcement): the step in flight when the stop came finishes, no other starts
    assert result.stopped and recorder.batches == 3
    assert recorder.events[0] == "fit_start" and recorder.events[-1] == "fit_end"
    assert recorder.events.count("epoch_start 0") == 1 and "epoch_start 1" not in recorder.events
    assert trainer.integrity.passed


def test_resume_gives_the_same_history_as_an_uninterrupted_run(folder, tmp_path):
    torch.manual_seed(0)
    interrupted, whole = head_only(), head_only()
    whole.model.load_state_dict(interrupted.model.state_dict())
    start = {k: v.clone() for k, v in interrupted.model.state_dict().items()}
    common = dict(epochs=3, cache="off", augment="light", optimizer="sgd", lr=0.02,
                  deterministic=True)  # bit for bit on CUDA too
    _, full = fit(whole, folder, checkpoint_dir=str(tmp_path / "a"), **common)
    stop = StopToken()
    recorder = Recorder(stop_after_batches=4, stop=stop)  # 3 batches an epoch: stops in epoch 2
    _, part = fit(interrupted, folder, [recorder], stop=stop, checkpoint_dir=str(tmp_path / "b"),
                  **common)
    assert part.stopped and len(part.history) == 1
    fresh = head_only()
    fresh.model.load_state_dict(start)
    _, resumed = fit(fresh, folder, checkpoint_dir=str(tmp_path / "b"), resume=tmp_path / "b",
                     **common)
    assert len(resumed.history) == 3
    flat = [value for row in metrics(resumed) for value in row]
    assert flat == pytest.approx([value for row in metrics(full) for value in row], rel=1e-6)
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(tensor, fresh.model.state_dict()[name]), name


def test_nan_loss_stops_and_restores_the_last_good_weights(folder):
    exp, recorder = head_only(), Recorder()
    before = {k: v.clone() for k, v in exp.model.state_dict().items()}
    _, result = fit(exp, folder, [recorder], lr=1e30, optimizer="sgd", cache="off",
                    augment="none")
    assert "the loss became" in result.error and "restored" in result.error
    assert recorder.errors and recorder.events[-1] == "fit_end"
    assert all(math.isfinite(float(v.float().sum())) for v in exp.model.state_dict().values())
    if not result.history:
        for name, tensor in exp.model.state_dict().items():
            assert torch.equal(tensor, before[name]), name


def test_an_exception_ends_the_run_cleanly(folder):
    exp, recorder = head_only(), Recorder()
    replace_head(exp.model, 5)  # the data has 2 classes: still trains (5 outputs)
    exp.model.get_submodule("classifier.7").forward = lambda x: (_ for _ in ()).throw(
        RuntimeError("boom"))
    _, result = fit(exp, folder, [recorder], cache="off")
    assert result.error.startswith("unexpected error (boom).") and "report" in result.error
    assert "RuntimeError" not in result.error
    assert recorder.events[0] == "fit_start" and recorder.events[-1] == "fit_end"


def test_gradual_unfreezing_rebuilds_the_optimiser_with_lower_rates(folder, tmp_path):
    pretrained = tmp_path / "vgg64.pt"
    torch.save(load_model("builtin:vgg64", "none").model.state_dict(), pretrained)
    exp = head_only(weights=str(pretrained))  # only the new classifier.7 trains at first
    trainer, result = fit(exp, folder, epochs=2, unfreeze=[UnfreezeStep(epoch=1, what=1)],
                          optimizer="sgd", lr=0.01, schedule="constant")
    assert result.error is None
    held = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    assert held == {id(p) for p in exp.model.parameters() if p.requires_grad}
    assert id(exp.model.get_submodule("classifier.1").weight) in held
    assert id(exp.model.get_submodule("features.0.0").weight) not in held
    rates = sorted({g["lr"] for g in trainer.optimizer.param_groups})
    assert rates == pytest.approx([0.001, 0.01]), "new head 1x, newly unfrozen layers 0.1x"
    assert result.history[1].cached and trainer.split.cut == "classifier.0", \
        "after unfreezing the classifier, features are cached before it"
    assert trainer.integrity.passed
    frozen = [d for d in trainer.integrity.rows if d.frozen]
    assert frozen and all(d.name.startswith("features") for d in frozen)


def test_bad_files_are_listed_and_skipped(folder, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(folder, data)
    reasons = write_broken_files(data / "train" / "red")
    recorder = Recorder()
    _, result = fit(head_only(), data, [recorder], epochs=1, cache="off")
    assert result.error is None
    for name, word in reasons.items():
        key = str(data / "train" / "red" / name)
        assert key in result.skipped_files and word.lower() in result.skipped_files[key].lower()


def test_an_index_checked_by_the_dataset_dock_is_not_checked_again(folder, monkeypatch):
    index = index_folder(folder)
    left_out = str(index.splits["train"][3][0])
    index.bad_files = {left_out: "unreadable image: cut short"}
    opened = []
    monkeypatch.setattr(image_check, "header_check", lambda path: opened.append(path))
    exp = head_only()
    trainer = Trainer(exp.model, index, exp.loaded.transform,
                      TrainConfig(epochs=1, batch_size=8), original=exp.original)
    result = trainer.fit()
    assert result.error is None and opened == [], "no header is read a second time"
    assert result.skipped_files == {left_out: "unreadable image: cut short"}
    assert len(trainer.train_files) == len(index.splits["train"]) - 1
    assert left_out not in {str(p) for p, _ in trainer.train_files}


def test_device_choice_prefers_cuda_then_mps_and_falls_back_to_the_cpu(monkeypatch):
    from tlgui.core.train.devices import pick_device

    for cuda, mps, auto in ((True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda mps=mps: mps)
        assert pick_device("auto").type == auto
        assert pick_device("cuda").type == ("cuda" if cuda else "cpu")
        assert pick_device("mps").type == ("mps" if mps else "cpu")
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")


def test_default_model_head_only_on_demo_data_caches_features():
    from .conftest import DEMO_DATA

    exp = build([{"op": "load", "model": "default"}, {"op": "replace_head", "num_classes": 2},
                 {"op": "preset", "name": "head-only"}])
    trainer, result = fit(exp, DEMO_DATA, epochs=3, batch_size=16, lr=1e-3)
    assert all(h.cached for h in result.history)
    assert result.history[-1].val_accuracy >= 0.85
    assert result.history[1].seconds * 5 < result.history[0].seconds
    assert trainer.integrity.passed and "bit-identical" in trainer.integrity.summary()
    loaded = load_model("default")
    for name, tensor in loaded.model.state_dict().items():
        assert torch.equal(tensor, exp.original.state_dict()[name])


def test_feature_cache_on_disk_is_reused_and_invalidated(folder, tmp_path):
    from tlgui.core.train.feature_cache import _MEMORY, compute_features, find_cut

    exp = head_only()
    split, _ = find_cut(exp.model)
    files = index_folder(folder).splits["train"]
    kwargs = dict(device=torch.device("cpu"), cache_dir=tmp_path)
    _MEMORY.clear()  # the same recipe and seed give the same frozen part as earlier tests
    first, reused = compute_features(split, files, exp.loaded.transform, **kwargs)
    assert not reused and len(list(tmp_path.glob("*/values.npy"))) == 1
    _MEMORY.clear()
    again, reused = compute_features(split, files, exp.loaded.transform, **kwargs)
    assert reused and torch.allclose(torch.from_numpy(again.values[:].copy()), first.values)
    from tlgui.core.train.feature_cache import CachedFeatures

    value, label, index = CachedFeatures(again, files)[3]
    assert torch.equal(value, first.values[3]) and (label, index) == (files[3][1], 3)
    with torch.no_grad():
        exp.model.get_submodule("features.0.0").weight.add_(0.1)  # the frozen part changed
    _, reused = compute_features(split, files, exp.loaded.transform, **kwargs)
    assert not reused and len(list(tmp_path.glob("*/values.npy"))) == 2


def test_features_decoded_by_worker_processes_equal_those_decoded_in_process(folder):
    from tlgui.core.train.feature_cache import _MEMORY, compute_features, find_cut

    exp = head_only()
    split, _ = find_cut(exp.model)
    files = index_folder(folder).splits["train"]
    results = []
    for workers in (0, 2):
        _MEMORY.clear()
        features, reused = compute_features(split, files, exp.loaded.transform,
                                            device=torch.device("cpu"), workers=workers)
        assert not reused and features.ok.all()
        results.append(features.values)
    assert torch.equal(*results)


class PidRecordingTransform:
    """The model's transform, leaving a file named after each process that decodes."""

    def __init__(self, inner, folder):
        self.inner, self.folder = inner, folder

    def __call__(self, image):
        (self.folder / str(os.getpid())).touch()
        return self.inner(image)


def test_loader_workers_decode_in_parallel_processes(folder, tmp_path):
    exp = head_only()
    transform = PidRecordingTransform(exp.loaded.transform, tmp_path)
    trainer = Trainer(exp.model, index_folder(folder), transform,
                      TrainConfig(epochs=1, batch_size=4, cache="off", augment="none",
                                  workers=2))
    result = trainer.fit()
    assert result.error is None and len(result.history) == 1
    decoders = {int(p.name) for p in tmp_path.iterdir()}
    assert len(decoders - {os.getpid()}) >= 2, decoders  # worker processes decoded
