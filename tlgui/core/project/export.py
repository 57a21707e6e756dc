"""Export an experiment as a standalone PyTorch script (torch, torchvision, timm; no tlgui).

The script rebuilds the model from the same source, puts the same head in place, sets the
same trainable tensors and optimiser groups, and trains with the same settings. Models with
a parallel branch are exported as their traced graph code.
"""

import json

from tlgui.core.config import TrainConfig
from tlgui.core.model.heads import find_classifier
from tlgui.core.model.recipe import Experiment
from tlgui.core.model.sources import model_script
from tlgui.core.train.optim import lr_factors, param_groups

HEADER = '''"""Exported by tlgui: {spec} ({weights} weights). Run: python {name} DATA_DIR [EPOCHS]"""
import json
import math
import sys

import torch
import torchvision
from torch import nn
from torchvision import datasets
from torchvision import transforms as T
'''

TRAIN = '''

FROZEN = set({frozen})
GROUPS = {groups}
CONFIG = {config}


def set_module(model, name, module):
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def build():
    model = make_model()
{branch}{heads}
    for name, param in model.named_parameters():
        param.requires_grad_(name not in FROZEN)
    return model


def train_mode(model):
    """Train mode, but frozen BatchNorm layers stay in eval mode."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            params = list(module.parameters())
            if params and not any(p.requires_grad for p in params):
                module.eval()


def main():
    data_dir = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else CONFIG["epochs"]
    torch.manual_seed(CONFIG["seed"])
    model = build()
    named = dict(model.named_parameters())
    groups = [dict(lr=g["lr"], weight_decay=g["weight_decay"],
                   params=[named[n] for n in g["params"]]) for g in GROUPS]
    optimizer = {{"sgd": lambda: torch.optim.SGD(groups, lr=CONFIG["lr"], momentum=CONFIG["momentum"]),
                 "adam": lambda: torch.optim.Adam(groups, lr=CONFIG["lr"]),
                 "adamw": lambda: torch.optim.AdamW(groups, lr=CONFIG["lr"])}}[CONFIG["optimizer"]]()
    train = datasets.ImageFolder(f"{{data_dir}}/train", transform=TRANSFORM)
    loader = torch.utils.data.DataLoader(train, batch_size=CONFIG["batch_size"], shuffle=True)
    steps = max(epochs * len(loader), 1)
    if CONFIG["schedule"] == "cosine":
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    else:
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    for epoch in range(epochs):
        train_mode(model)
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(labels)
        print(f"epoch {{epoch + 1}}: train loss {{total / len(train):.4f}}", file=sys.stderr)
    print(json.dumps({{
        "total_params": sum(p.numel() for p in model.parameters()),
        "trainable": sorted(n for n, p in model.named_parameters() if p.requires_grad),
    }}))


if __name__ == "__main__":
    main()
'''


def export_script(exp: Experiment, config: TrainConfig, name: str = "train_export.py") -> str:
    """The script's text. Raises ValueError for what it cannot express yet."""
    branches = [op for op in exp.ops if op["op"] == "branch"]
    if len(branches) > 1:
        raise ValueError("exporting more than one parallel branch is not supported yet; "
                         "save the experiment as a project instead")
    model_source = model_script(exp.loaded.spec, exp.loaded.weights)
    heads = []
    if any(op["op"] in ("replace_head", "branch") for op in exp.ops):
        head = find_classifier(exp.model)
        module = exp.model.get_submodule(head)
        heads.append(f"    set_module(model, {head!r}, nn.Linear({module.in_features}, "
                     f"{module.out_features}))")
    frozen = sorted(n for n, p in exp.model.named_parameters() if not p.requires_grad)
    factors = lr_factors(exp.model, pretrained_mult=config.pretrained_lr_mult,
                         spread=config.lr_spread, multipliers=config.lr_multipliers)
    names = {id(p): n for n, p in exp.model.named_parameters()}
    groups = [{"lr": g["lr"], "weight_decay": g["weight_decay"],
               "params": [names[id(p)] for p in g["params"]]}
              for g in param_groups(exp.model, config.lr, config.weight_decay, factors)]
    settings = {k: getattr(config, k) for k in ("epochs", "batch_size", "lr", "optimizer",
                                                "momentum", "schedule", "seed")}
    return (HEADER.format(spec=exp.loaded.spec, weights=exp.loaded.weights, name=name)
            + model_source + (_branch_source(exp, branches[0]) if branches else "")
            + TRAIN.format(frozen=json.dumps(frozen), groups=json.dumps(groups, indent=1),
                           config=json.dumps(settings), heads="\n".join(heads) or "    pass",
                           branch="    model = make_branched(model)\n" if branches else ""))


BRANCH = """

import copy
import types

BRANCH_SOURCES = {sources}
BRANCH_FRESH = {fresh}
FORWARD = {code!r}


def make_branched(model):
    \"\"\"Copy the branch's layers beside the originals and compute both paths (the
    forward code is the traced graph tlgui built).\"\"\"
    for target, source in BRANCH_SOURCES.items():
        parent, _, child = target.rpartition(".")
        holder = model
        for part in parent.split("."):
            if not hasattr(holder, part):
                holder.add_module(part, nn.Module())
            holder = getattr(holder, part)
        copied = copy.deepcopy(model.get_submodule(source))
        if BRANCH_FRESH:
            for module in copied.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        holder.add_module(child, copied)
    names = {{"torch": torch, "inf": math.inf, "nan": math.nan, "NoneType": type(None),
             "device": torch.device, "getattr": getattr}}
    exec(FORWARD, names)
    model.forward = types.MethodType(names["forward"], model)
    return model
"""


def _branch_source(exp: Experiment, op: dict) -> str:
    graph = exp.model.graph
    if any(n.op == "get_attr" and str(n.target).startswith("branch.") for n in graph.nodes):
        raise ValueError("this branch copies raw tensors (get_attr); export is not supported")
    code = graph.python_code(root_module="self")
    unknown = set(code.globals) - {"torch", "inf", "nan", "NoneType", "device", "fx_pytree",
                                   "pytree"}
    if unknown:
        raise ValueError(f"the branched graph uses {', '.join(sorted(unknown))}, which the "
                         "exported script cannot import")
    sources = {str(n.target): str(n.target)[len("branch."):] for n in graph.nodes
               if n.op == "call_module" and str(n.target).startswith("branch.")}
    return BRANCH.format(sources=json.dumps(sources, indent=1),
                         fresh=op.get("init", "copy") == "fresh", code=code.src)
