"""Mixed precision (issues 22 and 23): the dtype chosen per device, one loss scaler per run,
a resume across scaler settings, and a schedule that skips with the optimiser."""

import pytest
import torch

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import index_folder
from tlgui.core.train import compute, engine
from tlgui.core.train.compute import Precision, precision_for
from tlgui.core.train.engine import Trainer

from .helpers import make_image_folder
from .test_engine import Recorder, head_only


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("data"), per_class=10, val_per_class=4)


@pytest.mark.parametrize(("capability", "dtype"), [((7, 5), torch.float16),
                                                   ((8, 0), torch.bfloat16),
                                                   ((9, 0), torch.bfloat16)])
def test_cuda_precision_follows_the_compute_capability(monkeypatch, capability, dtype):
    # bfloat16 is emulated before Ampere, where is_bf16_supported() still says True
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    chosen = precision_for(torch.device("cuda", 0), amp=True)
    assert chosen.dtype == dtype and chosen.scaled == (dtype == torch.float16)
    assert precision_for(torch.device("cuda", 0), amp=False).dtype is None


def test_cpu_uses_bfloat16_only_where_the_processor_has_it(monkeypatch):
    monkeypatch.setattr(compute, "cpu_has_native_bf16", lambda: True)
    assert precision_for(torch.device("cpu"), amp=True).dtype == torch.bfloat16
    monkeypatch.setattr(compute, "cpu_has_native_bf16", lambda: False)
    fallback = precision_for(torch.device("cpu"), amp=True)
    assert fallback.dtype is None and "no native bfloat16" in fallback.note
    assert precision_for(torch.device("mps"), amp=True).dtype is None


def _fit(folder, recorder=None, spec="builtin:cifar_net", **config):
    exp = head_only(spec)
    config = {"epochs": 1, "batch_size": 4, "optimizer": "adamw", "device": "cpu", **config}
    trainer = Trainer(exp.model, index_folder(folder), exp.loaded.transform,
                      TrainConfig(**config), listeners=[recorder] if recorder else [],
                      original=exp.original)
    return trainer, trainer.fit()


def test_a_processor_without_bfloat16_trains_in_float32_and_says_so(monkeypatch, folder):
    monkeypatch.setattr(compute, "cpu_has_native_bf16", lambda: False)
    recorder = Recorder()
    trainer, result = _fit(folder, recorder, amp=True)
    assert result.error is None and trainer.precision.dtype is None
    assert sum("no native bfloat16" in m for m in recorder.messages) == 1
    assert any(m.endswith("in float32") for m in recorder.messages if m.startswith("training"))


def test_bfloat16_on_the_cpu_keeps_float32_weights_and_the_integrity_guarantee(monkeypatch,
                                                                              folder):
    monkeypatch.setattr(compute, "cpu_has_native_bf16", lambda: True)
    recorder = Recorder()
    trainer, result = _fit(folder, recorder, amp=True, cache="off", augment="none")
    assert result.error is None and trainer.precision.dtype == torch.bfloat16
    assert any("bfloat16 autocast" in m for m in recorder.messages)
    assert all(t.dtype == torch.float32 for t in trainer.model.state_dict().values()
               if t.is_floating_point())
    assert trainer.integrity.passed


def _float16_on_the_cpu(monkeypatch, init_scale: float = 2.0 ** 16):
    """A float16 run with a live loss scaler, on the CPU (the path of pre-Ampere GPUs)."""
    chosen = Precision("cpu", torch.float16)
    monkeypatch.setattr(engine, "precision_for", lambda device, amp: chosen)
    monkeypatch.setattr(Precision, "scaler", lambda self: torch.amp.GradScaler(
        "cpu", init_scale=init_scale, growth_interval=1000))


def test_the_schedule_advances_only_when_the_scaler_took_the_step(monkeypatch, folder):
    _float16_on_the_cpu(monkeypatch, init_scale=2.0 ** 22)  # the first steps overflow
    trainer, result = _fit(folder, amp=True, cache="off", augment="none", epochs=2)
    assert result.error is None
    steps = {int(s["step"]) for s in trainer.optimizer.state.values()}
    batches = 2 * trainer.batches_per_epoch
    assert len(steps) == 1 and 0 < steps.pop() == trainer.scheduler.last_epoch < batches
    assert trainer.scaler.get_scale() < 2.0 ** 22


def test_one_scaler_spans_the_unfreezing_phases(monkeypatch, folder):
    from tlgui.core.config import UnfreezeStep

    _float16_on_the_cpu(monkeypatch)
    built = []
    original = engine.Trainer._setup_phase

    def setup(self, *args):
        original(self, *args)
        built.append(id(self.scaler))

    monkeypatch.setattr(engine.Trainer, "_setup_phase", setup)
    trainer, result = _fit(folder, amp=True, epochs=2, unfreeze=[UnfreezeStep(1, 1)])
    assert result.error is None and len(built) == 2 and len(set(built)) == 1


def test_a_run_saved_with_the_scaler_off_resumes_with_it_on(monkeypatch, folder, tmp_path):
    common = dict(cache="off", augment="none", checkpoint_dir=str(tmp_path / "run"))
    exp = head_only("builtin:cifar_net")
    first = Trainer(exp.model, index_folder(folder), exp.loaded.transform,
                    TrainConfig(epochs=1, batch_size=4, device="cpu", **common))
    assert first.fit().error is None and not first.scaler.is_enabled()
    _float16_on_the_cpu(monkeypatch)
    resumed = Trainer(exp.model, index_folder(folder), exp.loaded.transform,
                      TrainConfig(epochs=2, batch_size=4, device="cpu", amp=True, **common))
    result = resumed.fit(resume_from=tmp_path / "run")
    assert result.error is None and len(result.history) == 2
    assert resumed.scaler.is_enabled()
    saved = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    assert saved["scaler"]["scale"] == resumed.scaler.get_scale()
