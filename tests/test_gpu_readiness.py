"""Defects a review of the never-run CUDA path found (issue 23), each tested on the CPU with
the device's answers mocked: GPU count under torchrun, the long wait for rank 0's features,
work shared by rank, sync-free flips, out-of-memory while decoding, and cuBLAS's setting
made before CUDA starts."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from tlgui.core.config import TrainConfig
from tlgui.core.data import gpu_decode
from tlgui.core.data.batch_augment import BatchAugment
from tlgui.core.data.image_cache import DecodedCache, ResizeSpec
from tlgui.core.errors import TlguiError
from tlgui.core.model.recipe import build
from tlgui.core.train import distributed, inputs
from tlgui.core.train.distributed import Ranks

from .helpers import make_image_folder
from .test_device_feed import SPEC


def test_more_torchrun_processes_than_gpus_are_refused_in_one_sentence(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    chosen = []
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    cuda = torch.device("cuda")
    assert distributed.device_for(Ranks(0, 2, 0), cuda) == torch.device("cuda", 0)
    with pytest.raises(TlguiError) as refused:
        distributed.device_for(Ranks(1, 2, 1), cuda)
    message = str(refused.value)
    assert "--nproc-per-node 1" in message and "--device cpu" in message and "\n" not in message
    assert chosen == [0]  # the refused rank touched no GPU
    assert distributed.device_for(Ranks(1, 2, 1), torch.device("cpu")).type == "cpu"


def test_ranks_wait_for_rank_zero_on_a_gloo_group_with_a_long_timeout(monkeypatch):
    calls = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group",
                        lambda backend, **kw: calls.append(("init", backend, kw["timeout"])))
    monkeypatch.setattr(distributed.dist, "new_group",
                        lambda backend, timeout: calls.append(("group", backend, timeout))
                        or "wait-group")
    monkeypatch.setattr(distributed.dist, "barrier", lambda group: calls.append(("barrier",
                                                                                 group)))
    distributed.start(Ranks(1, 2, 1), torch.device("cuda", 1))
    distributed.barrier(Ranks(1, 2, 1))
    assert calls == [("init", "nccl", distributed.TIMEOUT),
                     ("group", "gloo", distributed.WAIT_TIMEOUT), ("barrier", "wait-group")]
    assert distributed.WAIT_TIMEOUT >= timedelta(hours=1) > distributed.TIMEOUT
    distributed._waiting.clear()


def test_each_rank_decodes_its_own_share_of_the_images(monkeypatch, tmp_path):
    folder = make_image_folder(tmp_path / "data", per_class=5, val_per_class=2)
    files = sorted(p for p in folder.rglob("*.jpg"))
    train = [(p, 0) for p in files[:10]]
    valid = [(p, 0) for p in files[10:]]
    exp = build([{"op": "load", "model": "builtin:cifar_net", "weights": "none"}])
    decoded, waited = {}, []
    monkeypatch.setattr(inputs, "BatchAugment", lambda *args: None)  # holds CUDA tensors
    monkeypatch.setattr(distributed, "barrier", lambda ranks: waited.append(ranks.rank))
    config = TrainConfig(image_cache=True, gpu_decode=True, image_cache_dir=str(tmp_path / "c"))
    for rank in range(3):
        monkeypatch.setattr(inputs, "fill_cache", lambda cache, paths, device, should_stop,
                            rank=rank: decoded.setdefault(rank, list(paths))
                            and gpu_decode.FillReport())
        inputs.image_inputs(train, valid, exp.loaded.transform, "none", config,
                            torch.device("cuda"), Ranks(rank, 3, rank), say=lambda text: None,
                            should_stop=lambda: False)
    shares = [set(decoded[rank]) for rank in range(3)]
    assert sum(map(len, shares)) == len(files) and set().union(*shares) == set(files)
    assert waited == [0, 1, 2]  # none trains before every share is in the cache


def test_sync_free_flips_flip_the_same_images_as_indexing():
    images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    augment = BatchAugment(SPEC, "light", torch.device("cpu"))
    torch.manual_seed(3)
    ours = augment(images.clone(), train=True)
    torch.manual_seed(3)
    chosen = (torch.rand(len(images)) < 0.5).nonzero().flatten()
    expected = images.float().div(255)
    expected[chosen] = expected[chosen].flip(3)
    expected = (expected - augment.mean) / augment.std
    assert 0 < len(chosen) < len(images)
    assert torch.allclose(ours, expected, atol=1e-6)


def test_out_of_memory_while_decoding_is_not_taken_for_a_bad_file(monkeypatch, tmp_path):
    folder = make_image_folder(tmp_path / "data", per_class=2, val_per_class=0)
    paths = sorted(folder.rglob("*.jpg"))

    def decode(data, mode, device):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(gpu_decode, "decode_jpeg", decode)
    cache = DecodedCache(tmp_path / "cache", ResizeSpec(32, SPEC.interpolation))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        gpu_decode.fill_cache(cache, paths, torch.device("cpu"))


def test_cublas_is_configured_before_torch_starts_cuda():
    env = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    probe = ("import os, sys; import tlgui; assert 'torch' not in sys.modules; "
             "print(os.environ['CUBLAS_WORKSPACE_CONFIG'])")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, cwd=Path(__file__).parents[1], check=True)
    assert done.stdout.strip() == ":4096:8"
    kept = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**env, "CUBLAS_WORKSPACE_CONFIG": ":16:8"}, check=True)
    assert kept.stdout.strip() == ":16:8"
