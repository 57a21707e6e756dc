"""``tlgui find-lr``: the learning-rate range test with ``tlgui train``'s model, data,
freezing and settings; the model is left untouched and nothing is written."""

import argparse
import json
import sys

from tlgui.cli_train import add_model_and_settings, recipe_from_args, settings_from_args


def add_find_lr_parser(sub) -> None:
    p = sub.add_parser("find-lr", help="suggest a learning rate (the range test: seconds with "
                                       "cached features)")
    add_model_and_settings(p)
    p.add_argument("--steps", type=int, default=100, help="trial steps (default: %(default)s)")
    p.add_argument("--start-lr", type=float, default=1e-7, help="first rate (default: %(default)s)")
    p.add_argument("--end-lr", type=float, default=10.0, help="last rate (default: %(default)s)")
    p.add_argument("--json", action="store_true",
                   help='print {"suggested_lr": ..., "lrs": [...], "losses": [...], ...}')


def run_find_lr(args: argparse.Namespace) -> int:
    from tlgui.cli_progress import show_progress
    from tlgui.core.data.data_index import index_folder
    from tlgui.core.errors import ValidationError
    from tlgui.core.model.recipe import build
    from tlgui.core.train.lr_finder import find_lr
    from tlgui.core.validate import check_split_ratio

    if args.steps < 10 or not 0 < args.start_lr < args.end_lr:
        raise ValidationError("find-lr needs --steps of at least 10 and 0 < --start-lr < "
                              "--end-lr", "steps")
    config = settings_from_args(args, None)
    check_split_ratio(args.split_ratio)
    data = index_folder(args.data, split_ratio=args.split_ratio, seed=config.seed)
    experiment = build(recipe_from_args(args, len(data.classes)), trust_code=args.trust_code)
    sweep = find_lr(experiment.model, data, experiment.loaded.transform, config,
                    start_lr=args.start_lr, end_lr=args.end_lr, steps=args.steps,
                    say=lambda text: print(text, file=sys.stderr),
                    progress=lambda done, total: show_progress(done, total, "range test"))
    if args.json:
        print(json.dumps(sweep.as_dict()))
    else:
        print(sweep.describe())
    return 0 if sweep.restored else 3
