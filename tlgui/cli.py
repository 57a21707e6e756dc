"""The ``tlgui`` command: no arguments opens the app; subcommands run the core headless."""

import argparse
import json
import sys
import traceback
from collections.abc import Sequence

from tlgui import __version__
from tlgui.cli_clean import add_clean_parser, run_clean
from tlgui.cli_compare import add_compare_parser, run_compare
from tlgui.cli_explain import add_explain_parser, run_explain
from tlgui.cli_find_lr import add_find_lr_parser, run_find_lr
from tlgui.cli_model import add_checkpoint_arg, add_model_args, load_zoo_model, loaded_for
from tlgui.cli_train import add_train_parser, run_train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlgui", description="Transfer-learning workbench. No arguments opens the app.")
    parser.add_argument("--version", action="version", version=f"tlgui {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the app (the same as no arguments)")
    gui.add_argument("--model", default="default")

    inspect = sub.add_parser("inspect", help="print the layer tree, shapes, parameters, "
                                             "trainable state")
    add_model_args(inspect)
    inspect.add_argument("--num-classes", type=int, help="replace the head for N classes")
    inspect.add_argument("--freeze", nargs="+", default=[], metavar="PATTERN",
                         help="layers to freeze: glob patterns ('layer*' conv1) or top-level "
                              "indexes (0 -1)")

    predict = sub.add_parser("predict", help="top-K classes for images, with a zoo model or "
                                             "a trained run or project")
    add_model_args(predict)
    predict.add_argument("images", nargs="+", help="image files or folders")
    predict.add_argument("--topk", type=int, default=5)
    predict.add_argument("--tta", action="store_true",
                         help="average the prediction of each image and its horizontal flip")
    predict.add_argument("--csv", metavar="OUT", help="also write the predictions to a CSV file")
    add_checkpoint_arg(predict)

    evaluate = sub.add_parser("evaluate", help="confusion matrix and per-class results of a "
                                               "trained run or project")
    evaluate.add_argument("source", help="a run folder (tlgui train --out) or a .tlgui project")
    evaluate.add_argument("--data", help="image folder (default: the one it was trained on)")
    evaluate.add_argument("--split", choices=("val", "test", "train"), default="val")
    evaluate.add_argument("--checkpoint", choices=("best", "last"), default="best")
    evaluate.add_argument("--topk", type=int, default=5)
    evaluate.add_argument("--trust-code", action="store_true")
    evaluate.add_argument("--json", action="store_true")
    add_train_parser(sub)
    add_find_lr_parser(sub)
    add_clean_parser(sub)
    add_explain_parser(sub)
    add_compare_parser(sub)

    export = sub.add_parser("export", help="a trained run or project as ONNX, TorchScript or "
                                           "a plain PyTorch script")
    export.add_argument("source", help="a run folder (tlgui train --out) or a .tlgui project")
    export.add_argument("--format", choices=("onnx", "torchscript", "script"), required=True)
    export.add_argument("--out", required=True, metavar="PATH")
    export.add_argument("--checkpoint", choices=("best", "last"), default="best")
    export.add_argument("--trust-code", action="store_true")

    data = sub.add_parser("data", help="the layout, classes and bad files of an image folder")
    data.add_argument("folder", help="train/ + val/ folders, one folder per class, or a CSV")
    data.add_argument("--split-ratio", type=float, default=0.2)
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--check", action="store_true", help="open every image to find bad files")
    data.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 still print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    if args.command in (None, "gui"):
        from tlgui.qt.app import run_app

        return run_app(getattr(args, "model", "default"))
    from tlgui.core.errors import TlguiError, user_message

    try:
        if args.command == "inspect":
            return _inspect(args)
        if args.command == "train":
            return run_train(args)
        if args.command == "clean":
            return run_clean(args)
        if args.command == "explain":
            return run_explain(args)
        if args.command == "find-lr":
            return run_find_lr(args)
        if args.command == "compare":
            return run_compare(args)
        if args.command == "data":
            return _data(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "export":
            return _export(args)
        return _predict(args)
    except TlguiError as exc:
        print(f"tlgui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tlgui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: the details, then one line saying how to report it
        traceback.print_exc()
        print(f"tlgui: error: {user_message(exc)}", file=sys.stderr)
        return 1


def _inspect(args: argparse.Namespace) -> int:
    from tlgui.core.model.freeze import freeze
    from tlgui.core.model.tree import LayerTree

    loaded = load_zoo_model(args, args.num_classes)
    if args.freeze:
        freeze(loaded.model, [int(s) if s.lstrip("-").isdigit() else s for s in args.freeze])
    tree = LayerTree(loaded.model, loaded.input_size)
    if args.json:
        doc = {"model": args.model, "weights": loaded.weights,
               "input_size": list(loaded.input_size), **tree.as_dict()}
        if loaded.report is not None:
            doc["load_report"] = loaded.report.as_dict()
        print(json.dumps(doc, indent=1))
    else:
        for note in loaded.notes:
            print(note)
        print(tree.format_text())
    return 0


def _predict(args: argparse.Namespace) -> int:
    from tlgui.core.data.data_index import image_paths
    from tlgui.core.inference.predict import predict_files, write_csv
    from tlgui.core.validate import check_topk

    check_topk(args.topk)
    loaded = loaded_for(args)
    results = predict_files(loaded, image_paths(args.images), topk=args.topk, tta=args.tta)
    if args.csv:
        write_csv(results, args.csv)
    if args.json:
        print(json.dumps(results, indent=1))
        return 0 if all("error" not in r for r in results) else 1
    for result in results:
        print(result["image"])
        if "error" in result:
            print(f"  error: {result['error']}")
        for rank in result.get("top", []):
            print(f"  {rank['probability']:7.2%}  {rank['index']:>5}  {rank['label']}")
    return 0 if all("error" not in r for r in results) else 1


def _evaluate(args: argparse.Namespace) -> int:
    from tlgui.core.inference.evaluate import evaluate
    from tlgui.core.project.trained import load_trained
    from tlgui.core.validate import check_topk

    check_topk(args.topk)
    trained = load_trained(args.source, checkpoint=args.checkpoint, trust_code=args.trust_code)
    data = trained.data_index(args.data)
    folder = data.root
    report = evaluate(trained.loaded, data, args.split, k=args.topk)
    if args.json:
        print(json.dumps({"source": str(args.source), "checkpoint": trained.checkpoint,
                          "data": str(folder), **report.as_dict()}, indent=1))
    else:
        print(f"{args.source} ({trained.checkpoint} weights) on {folder}")
        print(report.format_text())
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tlgui.core.config import TrainConfig
    from tlgui.core.files import write_text_atomically
    from tlgui.core.inference.export_formats import export_model
    from tlgui.core.project.export import export_script
    from tlgui.core.project.trained import load_trained

    trained = load_trained(args.source, checkpoint=args.checkpoint, trust_code=args.trust_code)
    if args.format == "script":
        out = Path(args.out)
        text = export_script(trained.experiment, TrainConfig.from_dict(trained.config), out.name)
        written = [write_text_atomically(out, text)]
    else:
        written = export_model(trained.loaded, args.format, args.out)
    for path in written:
        print(path)
    return 0


def _data(args: argparse.Namespace) -> int:
    from tlgui.core.data.data_index import index_folder
    from tlgui.core.data.image_check import check_files
    from tlgui.core.data.samples import path_strings
    from tlgui.core.validate import check_split_ratio

    check_split_ratio(args.split_ratio)
    index = index_folder(args.folder, split_ratio=args.split_ratio, seed=args.seed)
    doc = index.as_dict()
    if args.check:
        files = [p for samples in index.splits.values() for p in path_strings(samples)]
        found = check_files(files, full=True)
        doc["checked"] = found.checked
        doc["bad_files"] = {str(p): r for p, r in found.bad.items()}
        doc["converted"] = {str(p): n for p, n in found.notes.items()}
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    print(f"{index.root}: layout '{index.layout}', {len(index.classes)} classes")
    splits = list(index.splits)
    print(f"  {'class':<24}" + "".join(f"{s:>10}" for s in splits))
    counts = index.counts()
    for name in index.classes:
        print(f"  {name:<24}" + "".join(f"{counts[s][name]:>10}" for s in splits))
    print(f"  {'total':<24}" + "".join(f"{len(index.splits[s]):>10}" for s in splits))
    for warning in index.warnings:
        print(f"warning: {warning}")
    if args.check:
        bad = doc["bad_files"]
        print(f"checked {doc['checked']} images: {len(bad)} bad")
        for path, reason in bad.items():
            print(f"  {path}: {reason}")
        if doc["converted"]:
            print(f"{len(doc['converted'])} images are converted when loaded:")
            for path, note in doc["converted"].items():
                print(f"  {path}: {note}")
    return 0
