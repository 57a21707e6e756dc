import collections

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from tlgui.core import (
    CheckpointError,
    UnsafeCheckpointError,
    load_model,
    load_weights_file,
    provenance,
)


class Sneaky:
    """Any non-tensor class makes a pickle that needs code to load."""


def small_net(classes: int = 10) -> nn.Module:
    return load_model("builtin:cifar_net", "none", num_classes=classes).model


def test_safetensors_with_module_prefix_loads_by_name(tmp_path):
    source = small_net()
    path = tmp_path / "w.safetensors"
    save_file({f"module.{k}": v.contiguous() for k, v in source.state_dict().items()}, path)
    target = small_net()
    report = load_weights_file(target, path)
    assert len(report.loaded) == len(source.state_dict())
    assert not report.skipped and not report.missing and not report.unexpected
    for name, tensor in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], tensor)
    assert provenance(target)["fc1.weight"].source == "w.safetensors:fc1.weight"


def test_checkpoint_with_a_different_head_loads_with_a_report(tmp_path):
    source = small_net(10)
    path = tmp_path / "w.pt"
    torch.save({"epoch": 3, "state_dict": source.state_dict()}, path)
    target = small_net(2)
    report = load_weights_file(target, path)
    assert ("fc3.weight", (10, 84), (2, 84)) in report.skipped
    assert ("fc3.bias", (10,), (2,)) in report.skipped
    assert "fc1.weight" in report.loaded and not report.missing
    assert "skipped fc3.weight: file [10, 84] vs model [2, 84]" in report.summary()
    origins = provenance(target)
    assert origins["fc1.weight"].kind == "pretrained" and origins["fc3.weight"].kind == "fresh"


def test_missing_and_unexpected_keys_are_reported(tmp_path):
    state = collections.OrderedDict(small_net().state_dict())
    state.pop("conv1.bias")
    state["extra.weight"] = torch.zeros(3)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    report = load_weights_file(small_net(), path)
    assert report.missing == ["conv1.bias"] and report.unexpected == ["extra.weight"]


def test_loaded_weights_never_alias_the_file_tensors(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(small_net().state_dict(), path)
    from tlgui.core.model.weight_files import load_state_dict_into, read_state_dict

    state = read_state_dict(path)
    target = small_net()
    load_state_dict_into(target, state)
    state["fc1.weight"].add_(1.0)
    assert not torch.equal(target.fc1.weight, state["fc1.weight"])


def test_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": small_net().state_dict(), "payload": Sneaky()}, path)
    with pytest.raises(UnsafeCheckpointError, match="would run code"):
        load_weights_file(small_net(), path)


@pytest.mark.parametrize("content", [b"", b"hello, not a checkpoint", b"PK\x03\x04truncated"])
def test_non_checkpoint_files_fail_plainly(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_weights_file(small_net(), path)
    assert not isinstance(info.value, UnsafeCheckpointError)
    assert "not a PyTorch checkpoint" in str(info.value)


def test_truncated_checkpoint_fails_plainly(tmp_path):
    path = tmp_path / "cut.pt"
    torch.save(small_net().state_dict(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_weights_file(small_net(), path)


def test_broken_safetensors_and_missing_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_weights_file(small_net(), path)
    with pytest.raises(CheckpointError, match="not found"):
        load_weights_file(small_net(), tmp_path / "nope.pt")


def test_file_without_tensors_is_explained(tmp_path):
    path = tmp_path / "numbers.pt"
    torch.save({"epoch": 3}, path)
    with pytest.raises(CheckpointError, match="holds no tensors"):
        load_weights_file(small_net(), path)


def test_load_model_with_a_local_file_reports(tmp_path):
    source = load_model("resnet18", "none").model
    path = tmp_path / "resnet.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, path)
    loaded = load_model("resnet18", str(path), num_classes=3)
    assert len(loaded.report.loaded) == len(source.state_dict())
    assert torch.equal(loaded.model.layer1[0].conv1.weight, source.layer1[0].conv1.weight)
    assert loaded.model.fc.out_features == 3
    assert provenance(loaded.model)["fc.weight"].kind == "fresh"
