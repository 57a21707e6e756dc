"""Grad-CAM: where the class is decided by a small patch, the heatmap peaks on it; branched
and user models are explained without naming a layer; the model is left as it was."""

import json

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from tlgui.cli import main
from tlgui.core.errors import NoMatchError, SurgeryError
from tlgui.core.inference.explain import Explainer
from tlgui.core.inference.heatmaps import peak_in_image, seen_box
from tlgui.core.model.branch import add_parallel_branch
from tlgui.core.model.loaded import LoadedModel, eval_transform

SIDE, PATCH = 80, 12  # saved images; the model sees a 64-pixel centre crop of a 73 resize


class PatchNet(nn.Module):
    """A user's model whose one ReLU module is called three times."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
        self.conv3, self.act = nn.Conv2d(32, 32, 3, padding=1), nn.ReLU()
        self.pool, self.fc = nn.MaxPool2d(2), nn.Linear(32, 2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv3(self.pool(self.act(self.conv2(self.act(self.conv1(x)))))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))


def patch_images(folder, count: int, seed: int) -> list[tuple[str, int, tuple[int, int]]]:
    """Grey noise with a red (class 0) or green (class 1) patch at a random place inside the
    part the model sees: (path, class, patch's top-left corner)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        label = i % 2
        pixels = rng.uniform(90, 170, (SIDE, SIDE, 3))
        x, y = (int(v) for v in rng.integers(10, SIDE - 10 - PATCH, 2))
        pixels[y:y + PATCH, x:x + PATCH] = (200, 40, 40) if label == 0 else (40, 200, 40)
        path = folder / f"{i:03d}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        made.append((str(path), label, (x, y)))
    return made


def loaded_for(model: nn.Module, side: int = 64) -> LoadedModel:
    return LoadedModel(model, eval_transform(side), ["red", "green"], (3, side, side),
                       "test", "none")


@pytest.fixture(scope="module")
def trained_patch_net(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("patches")
    train = patch_images(folder / "train", 240, seed=1)
    loaded = loaded_for(PatchNet())
    images = torch.stack([loaded.transform(Image.open(p).convert("RGB")) for p, _, _ in train])
    labels = torch.tensor([label for _, label, _ in train])
    optimiser = torch.optim.Adam(loaded.model.parameters(), lr=3e-3)
    for _ in range(12):
        for batch in torch.randperm(len(images)).split(32):
            optimiser.zero_grad()
            nn.functional.cross_entropy(loaded.model(images[batch]), labels[batch]).backward()
            optimiser.step()
    return loaded, patch_images(folder / "test", 40, seed=2)


def test_the_heatmap_peaks_on_the_patch_that_decides_the_class(trained_patch_net):
    loaded, test = trained_patch_net
    explanations = Explainer(loaded).explain([p for p, _, _ in test])
    correct = sum(e.predicted == loaded.class_names[label]
                  for e, (_, label, _) in zip(explanations, test, strict=True))
    assert correct >= 36, f"the model learnt the patches in only {correct} of 40 images"
    on_patch = sum(x - 2 <= e.peak_xy[0] < x + PATCH + 2 and y - 2 <= e.peak_xy[1] < y + PATCH + 2
                   for e, (_, _, (x, y)) in zip(explanations, test, strict=True))
    print(f"Grad-CAM peaks on the patch in {on_patch} of {len(test)} images")
    assert on_patch >= 32, f"the peak lies on the patch in only {on_patch} of {len(test)} images"
    plus = Explainer(loaded).explain([p for p, _, _ in test], method="gradcam++")
    on_patch = sum(x - 2 <= e.peak_xy[0] < x + PATCH + 2 and y - 2 <= e.peak_xy[1] < y + PATCH + 2
                   for e, (_, _, (x, y)) in zip(plus, test, strict=True))
    assert on_patch >= 32, f"Grad-CAM++ peaks on the patch in only {on_patch} of {len(test)}"


def test_a_module_called_twice_is_explained_at_its_last_call(trained_patch_net):
    """The default target is the third call of ``act``; its map equals Grad-CAM by hand."""
    loaded, test = trained_patch_net
    explainer = Explainer(loaded)
    assert explainer.default == ["act_2"]
    assert {"act", "act_1", "act_2"} <= set(explainer.layers)  # one node per call
    image = loaded.transform(Image.open(test[0][0]).convert("RGB"))[None]
    maps, probs = explainer.heatmaps(image, explainer.default)
    features = loaded.model.features(image).detach().requires_grad_(True)
    logits = loaded.model.fc(features.mean((2, 3)))
    grad, = torch.autograd.grad(logits[0, logits.argmax()], features)
    cam = (grad.mean((2, 3))[:, :, None, None] * features).sum(1).clamp_min(0)
    cam = nn.functional.interpolate(cam[:, None], size=(64, 64), mode="bilinear")[0, 0]
    np.testing.assert_allclose(maps[0], (cam / cam.max()).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(probs[0], logits.softmax(1)[0].detach().numpy(), atol=1e-6)


def test_a_frozen_branched_model_is_explained_at_each_branch_and_left_as_it_was():
    torch.manual_seed(0)
    model = add_parallel_branch(torchvision.models.resnet18(num_classes=2), "layer3.1.relu_1",
                                "flatten", merge="concat", num_classes=2, input_size=(3, 64, 64))
    for p in model.parameters():
        p.requires_grad_(False)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    explainer = Explainer(loaded_for(model))
    assert sorted(explainer.default) == ["branch.layer4.1.relu_1", "layer4.1.relu_1"]
    assert explainer.node_for("layer4") == "layer4.1.relu_1"
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 90, 3), np.uint8))
    maps, _ = explainer.heatmaps(loaded_for(model).transform(image)[None], explainer.default)
    assert maps.shape == (1, 64, 64) and np.isfinite(maps).all() and maps.max() == 1.0
    assert all(m.training for m in model.modules())
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_model_without_a_spatial_map_gets_one_sentence():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64 * 64, 2))
    with pytest.raises(SurgeryError, match="no spatial feature map"):
        Explainer(loaded_for(model))


def test_a_vision_transformer_gets_one_sentence_saying_why_not():
    from tlgui.core.model.sources import load_model

    loaded = load_model("timm:vit_tiny_patch16_224", "none", num_classes=2)
    with pytest.raises(SurgeryError, match="works on tokens after its last spatial map"):
        Explainer(loaded)


def test_unknown_layers_and_classes_name_what_would_work(trained_patch_net):
    loaded, test = trained_patch_net
    explainer = Explainer(loaded)
    with pytest.raises(NoMatchError, match="act_2"):
        explainer.explain([test[0][0]], layers=["nowhere"])
    with pytest.raises(NoMatchError, match="red, green"):
        explainer.explain([test[0][0]], class_name="blue")


def test_the_seen_box_undoes_resize_and_centre_crop():
    # 200 x 100: the shorter side to 73 gives 146 x 73; a 64 crop keeps x 41..105, y 4..68
    left, top, right, bottom = seen_box(eval_transform(64), 200, 100)
    scale = 100 / 73
    assert (left, top) == pytest.approx((41 * scale, 4 * scale))
    assert (right - left, bottom - top) == pytest.approx((64 * scale, 64 * scale))
    heat = np.zeros((64, 64))
    heat[0, 63] = 1.0  # the crop's top-right pixel
    x, y = peak_in_image(heat, (left, top, right, bottom))
    assert (x, y) == (int(right - 0.5 * scale), int(top + 0.5 * scale))


def test_tlgui_explain_writes_overlays_and_peaks(tmp_path, capsys):
    images = patch_images(tmp_path / "images", 2, seed=3)
    assert main(["explain", "builtin:cifar_net", "--weights", "none", images[0][0],
                 images[1][0], str(tmp_path / "missing.png"), "--out", str(tmp_path / "out"),
                 "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in doc] == [images[0][0], images[1][0], str(tmp_path / "missing.png")]
    assert doc[2]["error"] == "cannot read image: file not found"
    for entry in doc[:2]:
        assert set(entry) >= {"path", "predicted", "probability", "layer", "peak_xy", "overlay"}
        assert 0 <= entry["peak_xy"][0] < SIDE and 0 <= entry["peak_xy"][1] < SIDE
        assert Image.open(entry["overlay"]).size == (SIDE, SIDE)
    assert main(["explain", "builtin:cifar_net", "--weights", "none", images[0][0],
                 "--class", "no such class", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not one of the model's classes" in err[0]
