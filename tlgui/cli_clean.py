"""``tlgui clean DATA``: likely label errors, duplicates and leaks between splits, and
outliers, from a head-only model's features; reads the images, never changes them."""

import argparse
import json
import sys

from tlgui.cli_train import load_op


def add_clean_parser(sub) -> None:
    p = sub.add_parser("clean", help="likely label errors, duplicates, leaks and outliers "
                                     "of an image folder")
    p.add_argument("data", help="folder with train/ and val/, or <class>/, or a CSV")
    p.add_argument("--model", default="default", help="whose features compare the images "
                                                      "(default: %(default)s)")
    p.add_argument("--weights", default="default")
    p.add_argument("--trust-code", action="store_true")
    p.add_argument("--split-ratio", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0, help="the split and the folds' seed")
    p.add_argument("--folds", type=int, default=5, help="out-of-fold head fits (default: 5)")
    p.add_argument("--near", type=float, default=None,
                   help="centred cosine similarity of two images' features from which they "
                        "count as copies (the report's settings show the value used)")
    p.add_argument("--cache-dir", help="keep the features on disk here for the next run")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def run_clean(args: argparse.Namespace) -> int:
    from tlgui.cli_progress import show_progress
    from tlgui.core.cleaning.neighbours import NEAR
    from tlgui.core.cleaning.report import clean
    from tlgui.core.data.data_index import index_folder
    from tlgui.core.errors import ValidationError
    from tlgui.core.model.recipe import build
    from tlgui.core.validate import check_split_ratio

    near = NEAR if args.near is None else args.near
    if args.folds < 2 or not 0 < near <= 1:
        raise ValidationError("clean needs --folds of at least 2 and 0 < --near <= 1", "folds")
    check_split_ratio(args.split_ratio)
    data = index_folder(args.data, split_ratio=args.split_ratio, seed=args.seed)
    experiment = build([load_op(args), {"op": "replace_head", "num_classes": len(data.classes)},
                        {"op": "preset", "name": "head-only"}], trust_code=args.trust_code)
    found = clean(experiment, data, folds=args.folds, seed=args.seed, near=near,
                  cache_dir=args.cache_dir, device=args.device,
                  say=lambda text: print(text, file=sys.stderr),
                  progress=lambda what, done, total: show_progress(done, total, what))
    if args.json:
        print(json.dumps(found, indent=1))
        return 0
    print(summary(found))
    return 0


def summary(found: dict, shown: int = 10) -> str:
    """The findings as text: counts, then the first ``shown`` of each list."""
    leaks = [d for d in found["duplicates"] if d["leak"]]
    lines = [f"{found['settings']['images']} images checked in {found['seconds']:.1f} s: "
             f"{len(found['label_issues'])} likely label errors, {len(found['duplicates'])} "
             f"groups of copies ({len(leaks)} across splits: leaks), "
             f"{len(found['outliers'])} outliers"]
    if found["label_issues"]:
        lines.append("likely label errors (most likely first):")
        lines += [f"  {i['score']:.2f}  {i['path']}  labelled {i['given']}, looks like "
                  f"{i['suggested']}" for i in found["label_issues"][:shown]]
    if found["duplicates"]:
        lines.append("copies (leaks first):")
        lines += [f"  {'LEAK ' if d['leak'] else ''}{d['similarity']:.3f} "
                  f"[{', '.join(d['splits'])}]  " + "  ".join(d["paths"])
                  for d in found["duplicates"][:shown]]
    if found["outliers"]:
        lines.append("outliers (farthest first):")
        lines += [f"  {o['score']:.3f}  {o['path']}" for o in found["outliers"][:shown]]
    return "\n".join(lines)
