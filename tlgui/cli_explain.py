"""``tlgui explain SOURCE IMAGE... --out DIR``: Grad-CAM overlays of a model's predictions,
one PNG per image, and with ``--json`` where each heatmap peaks in the image's pixels."""

import argparse
import json
import sys

from tlgui.cli_model import add_checkpoint_arg, add_model_args


def add_explain_parser(sub) -> None:
    p = sub.add_parser("explain", help="Grad-CAM heatmaps: where in each image the model "
                                       "looked for its prediction")
    add_model_args(p)
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the overlay PNGs")
    p.add_argument("--class", dest="class_name", metavar="NAME",
                   help="explain this class instead of the predicted one")
    p.add_argument("--layer", action="append", metavar="NAME",
                   help="the layer (graph node or module) to explain at; repeat to sum several "
                        "(default: the last feature map before the head, each branch's)")
    p.add_argument("--method", choices=("gradcam", "gradcam++"), default="gradcam")
    p.add_argument("--opacity", type=float, default=0.5, help="of the heatmap (default: 0.5)")
    add_checkpoint_arg(p)


def run_explain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tlgui.cli_model import loaded_for
    from tlgui.core.data.data_index import image_paths
    from tlgui.core.errors import ValidationError
    from tlgui.core.inference.explain import Explainer, write_overlays

    if not 0 <= args.opacity <= 1:
        raise ValidationError(f"--opacity must lie between 0 and 1, not {args.opacity}")
    paths = image_paths(args.images)
    explainer = Explainer(loaded_for(args))

    def progress(done: int, total: int) -> None:
        print(f"\rexplained {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    explanations = explainer.explain(paths, class_name=args.class_name, layers=args.layer,
                                     method=args.method, progress=progress)
    written = write_overlays(explanations, Path(args.out), args.opacity)
    if args.json:
        print(json.dumps([{**e.as_dict(), **({"overlay": str(w)} if w else {})}
                          for e, w in zip(explanations, written, strict=True)], indent=1))
    else:
        for e, w in zip(explanations, written, strict=True):
            if e.error:
                print(f"{e.path}\n  error: {e.error}")
            else:
                print(f"{e.path}\n  {e.predicted} {e.probability:.1%}; {e.explained} explained "
                      f"at {e.layer}, peak at x={e.peak_xy[0]}, y={e.peak_xy[1]}: {w}")
    return 0 if all(not e.error for e in explanations) else 1
