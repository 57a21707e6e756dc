"""``tlgui compare``: a grid of models x freezing strategies, headless, the table printed as
it fills; ``results.json`` and ``results.csv`` in ``--out`` after every cell."""

import argparse
import sys
from pathlib import Path

from tlgui.core.config import add_config_arguments


def add_compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="train a grid of models x strategies and compare them")
    p.add_argument("--data", required=True, help="folder with train/ and val/, or <class>/")
    p.add_argument("--models", nargs="+", default=["default"], metavar="MODEL")
    p.add_argument("--strategies", nargs="+", default=["shallow", "deep", "scratch"],
                   metavar="STRATEGY", help="shallow, partial:K, deep, scratch")
    p.add_argument("--split-ratio", type=float, default=0.2)
    add_config_arguments(p)
    p.set_defaults(epochs=3)
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--resume", action="store_true",
                   help="keep the finished cells in --out and run the rest")


def run_compare(args: argparse.Namespace) -> int:
    from tlgui.core.config import check_config, config_from_args
    from tlgui.core.data.data_index import index_folder
    from tlgui.core.errors import ValidationError
    from tlgui.core.runs.grid import TABLE_HEADER, Grid, check_strategy, format_row, load_rows, run_grid
    from tlgui.core.validate import check_data, check_split_ratio

    out = Path(args.out)
    config = config_from_args(args)
    check_config(config)
    check_split_ratio(args.split_ratio)
    for strategy in args.strategies:
        check_strategy(strategy)
    rows = load_rows(out)
    if rows and not args.resume:
        raise ValidationError(f"{out} holds results of an earlier comparison; pass --resume to "
                              "continue it, or choose another --out", "out")
    data = index_folder(args.data, split_ratio=args.split_ratio, seed=args.seed)
    check_data(data)
    grid = Grid(list(args.models), list(args.strategies), config, out, rows)
    print(TABLE_HEADER)
    for row in rows:
        print(format_row(row))

    def starting(number: int, total: int, model: str, strategy: str) -> None:
        print(f"[cell {number + 1}/{total}] {model} · {strategy} …", file=sys.stderr, flush=True)

    run_grid(grid, data, on_cell=starting, on_row=lambda row: print(format_row(row), flush=True))
    print(f"results: {out / 'results.json'} and {out / 'results.csv'}")
    return 0 if all(not r.get("error") for r in grid.rows) else 1
