"""Pictures of a comparison: the Experiments dock showing RESULTS/results.json, and its
accuracy-against-training-time chart on its own.

Usage: python scripts/screenshot_compare.py RESULTS [--out resources/screenshots]
"""

import argparse
from pathlib import Path

from screenshot_app import fresh_app

from tlgui.qt.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = parser.parse_args()
    app = fresh_app()
    window = MainWindow()
    window.fit_to(1600, 1000)
    window.show()
    window.docks["Experiments"].raise_()
    panel = window.experiments
    panel.show_results(args.results)
    for _ in range(5):
        app.processEvents()
    panel.grab().save(str(args.out / "experiments-panel.png"))
    chart = panel.accuracy_plot
    chart.resize(900, 560)
    chart.grab().save(str(args.out / "compare-chart.png"))
    print(args.out / "experiments-panel.png")
    print(args.out / "compare-chart.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
