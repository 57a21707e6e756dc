"""``tlgui train``: the engine headless, with a text progress bar and files in ``--out``.

Nothing here imports torch at module level, so that ``tlgui`` can show its window first."""

import argparse
import os
import sys
from pathlib import Path

from tlgui.core.config import PRESETS, add_config_arguments


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model on an image folder (headless)")
    add_model_and_settings(p)
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    p.add_argument("--no-tensorboard", action="store_true",
                   help="do not write TensorBoard event files under OUT/tb/")
    p.add_argument("--from", dest="plan", metavar="DIR",
                   help="train the model and settings of a folder exported from the app "
                        "(File → Export run folder); --data and --out say where")
    p.add_argument("--out", required=True, metavar="DIR")


def add_model_and_settings(p: argparse.ArgumentParser) -> None:
    """What ``train`` and ``find-lr`` share: the model, its freezing, the data, the settings."""
    p.add_argument("--model", default="default")
    p.add_argument("--weights", default="default")
    p.add_argument("--trust-code", action="store_true")
    p.add_argument("--data", required=True, help="folder with train/ and val/, or <class>/")
    p.add_argument("--split-ratio", type=float, default=0.2,
                   help="held-out share per class for a single folder (default: %(default)s)")
    p.add_argument("--lr-mult", nargs="+", default=[], metavar="PATTERN=FACTOR",
                   help="per-layer learning-rate multipliers, e.g. layer4=2 'layer3.*'=0.5")
    p.add_argument("--preset", choices=PRESETS, default=None)
    p.add_argument("--freeze", nargs="+", default=[], metavar="PATTERN")
    p.add_argument("--unfreeze-at", nargs="+", default=[], metavar="EPOCH[:all|K]",
                   help="gradual unfreezing: at epoch E (1-based) unfreeze all or the last K blocks")
    p.add_argument("--branch", metavar="FORK:JOIN[:copy|fresh[:concat|sum|mean]]",
                   help="grow a parallel branch before training")
    p.add_argument("--image-cache", nargs="?", const="", default=None, metavar="DIR",
                   help="keep decoded, resized images on disk (default folder "
                        "~/.cache/tlgui/decoded) and augment batches as tensors on the device")
    add_config_arguments(p)
    p.add_argument("--input-size", metavar="CxHxW",
                   help="the model's input size, e.g. 3x32x32 (default: what the model "
                        "declares, or the first size tried that runs)")


def _selectors(values: list[str]) -> list[str | int]:
    return [int(v) if v.lstrip("-").isdigit() else v for v in values]


def load_op(args: argparse.Namespace) -> dict:
    """The recipe's first step from the command line: model, weights, seed, input size."""
    from tlgui.core.validate import parse_input_size

    op = {"op": "load", "model": args.model, "weights": args.weights,
          "seed": getattr(args, "seed", 0)}
    if getattr(args, "input_size", None):
        op["input_size"] = list(parse_input_size(args.input_size))
    return op


def recipe_from_args(args: argparse.Namespace, num_classes: int) -> list[dict]:
    from tlgui.core.errors import ValidationError

    ops: list[dict] = [load_op(args)]
    if args.branch:
        parts = args.branch.split(":")
        if len(parts) < 2 or not all(parts[:2]):
            raise ValidationError(f"--branch needs FORK:JOIN[:init[:merge]], not '{args.branch}'")
        ops.append({"op": "branch", "fork": parts[0], "join": parts[1],
                    "init": parts[2] if len(parts) > 2 else "copy",
                    "merge": parts[3] if len(parts) > 3 else "concat",
                    "num_classes": num_classes})
    else:
        ops.append({"op": "replace_head", "num_classes": num_classes})
    if args.preset:
        ops.append({"op": "preset", "name": args.preset, "train_bn": args.train_bn})
    if args.freeze:
        ops.append({"op": "freeze", "selectors": _selectors(args.freeze), "train_bn": args.train_bn})
    return ops


def _multipliers(values: list[str]) -> dict[str, float]:
    from tlgui.core.errors import ValidationError

    out = {}
    for value in values:
        pattern, _, factor = value.rpartition("=")
        try:
            out[pattern] = float(factor)
        except ValueError:
            pattern = ""
        if not pattern:
            raise ValidationError(f"--lr-mult needs PATTERN=FACTOR, not '{value}'")
    return out


def run_train(args: argparse.Namespace) -> int:
    from tlgui.core.runs.record import load_plan

    if args.plan:
        return _train(args, *load_plan(args.plan, trust_code=args.trust_code))
    return _train(args, None, settings_from_args(args, str(Path(args.out) / "checkpoints")))


def settings_from_args(args: argparse.Namespace, checkpoint_dir: str | None):
    """The checked TrainConfig of :func:`add_model_and_settings`'s options."""
    from tlgui.core.config import check_config, config_from_args, parse_unfreeze

    config = config_from_args(
        args, lr_multipliers=_multipliers(args.lr_mult), unfreeze=parse_unfreeze(args.unfreeze_at),
        checkpoint_dir=checkpoint_dir, image_cache=args.image_cache is not None,
        image_cache_dir=args.image_cache or None)
    check_config(config)
    return config


def _train(args: argparse.Namespace, experiment, config) -> int:
    """Check everything, build the model (unless a plan brought it), train, write the run."""
    from tlgui.cli_progress import TextProgress
    from tlgui.core.data.data_index import index_folder
    from tlgui.core.errors import ValidationError
    from tlgui.core.model.heads import classifier_width
    from tlgui.core.model.recipe import build
    from tlgui.core.runs.service import check_run_folder, train_run
    from tlgui.core.train import distributed
    from tlgui.core.train.run_logs import TensorBoardLog
    from tlgui.core.validate import check_split_ratio

    out = Path(args.out)
    check_run_folder(out)
    check_split_ratio(args.split_ratio)
    data = index_folder(args.data, split_ratio=args.split_ratio, seed=config.seed)
    for warning in data.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if experiment is None:
        experiment = build(recipe_from_args(args, len(data.classes)), trust_code=args.trust_code)
    elif classifier_width(experiment.model) != len(data.classes):
        raise ValidationError(f"the exported model has {classifier_width(experiment.model)} "
                              f"outputs but {args.data} has {len(data.classes)} classes", "data")
    ranks = distributed.from_env()

    def tensorboard(trainer):
        if args.no_tensorboard:
            return []
        return [TensorBoardLog(out / "tb", experiment.model, experiment.loaded.input_size,
                               lambda: trainer.optimizer.param_groups)]

    trainer = None
    try:
        trainer = train_run(out, experiment, data, config,
                            listeners=[TextProgress()] if ranks.writes else [],
                            resume=args.resume, writes=ranks.writes, more_listeners=tensorboard)
    finally:
        if trainer is not None and trainer.result.error is not None and ranks.enabled:
            # leave at once: torchrun then ends the other ranks instead of letting them wait
            print(f"tlgui: error (rank {ranks.rank}): {trainer.result.error}", file=sys.stderr)
            sys.stderr.flush()
            os._exit(1)
        distributed.finish()
    if trainer.result.error:
        print(f"tlgui: error: {trainer.result.error}", file=sys.stderr)
        return 1
    if trainer.ranks_identical is False:
        print("tlgui: error: the ranks ended with different models", file=sys.stderr)
        return 3
    return 0 if trainer.integrity is None or trainer.integrity.passed else 3
