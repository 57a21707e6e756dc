"""Pictures of a comparison: the Experiments dock showing RESULTS/results.json, and its
accuracy-against-training-time chart on its own.

Usage: python scripts/screenshot_compare.py RESULTS [--out resources/screenshots]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tlgui.qt.gc_guard import install as install_collector  # noqa: E402
from tlgui.qt.main_window import MainWindow  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = parser.parse_args()
    app = QApplication(sys.argv)
    install_collector(app)
    app.setOrganizationName("tlgui-screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
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
