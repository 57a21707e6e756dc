"""The model options ``inspect``, ``predict`` and ``explain`` share: a zoo model (name,
weights, input size) or a trained run folder or project."""

import argparse


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="default, resnet18, timm:<name>, builtin:<name>, "
                                      "path/to/file.py:factory, or for predict and explain a "
                                      "run folder or .tlgui project")
    parser.add_argument("--weights", default="default",
                        help="none, default, a torchvision enum (IMAGENET1K_V1) or a local "
                             ".safetensors/.pt/.pth file (default: %(default)s)")
    parser.add_argument("--trust-code", action="store_true",
                        help="allow running the Python file named by a file.py:factory model")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--input-size", metavar="CxHxW",
                        help="the model's input size, e.g. 3x32x32 (default: what the model "
                             "declares, or the first size tried that runs)")


def load_zoo_model(args: argparse.Namespace, num_classes: int | None = None):
    from tlgui.core.model.sources import load_model
    from tlgui.core.validate import check_num_classes, parse_input_size

    if num_classes is not None:
        check_num_classes(num_classes)
    size = parse_input_size(args.input_size) if args.input_size else None
    return load_model(args.model, args.weights, num_classes=num_classes,
                      trust_code=args.trust_code, progress=not args.json, input_size=size)


def add_checkpoint_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best",
                        help="for a run folder: the best or the last weights (default: best)")


def loaded_for(args: argparse.Namespace):
    """The model ``args.model`` names: a trained run folder or project, else a zoo model."""
    from tlgui.core.project.trained import is_trained_source, load_trained

    if is_trained_source(args.model):
        return load_trained(args.model, checkpoint=args.checkpoint,
                            trust_code=args.trust_code).loaded
    return load_zoo_model(args)
