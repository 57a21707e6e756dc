"""The embedding map at scale, in one process: PCA of N feature vectors (1,280 features, as
the default model's), drawing N points with one scatter item per class against one brush
per point, and the longest GUI-thread step while panning and hovering the Map dock (each
step: one pan or hover, then a synchronous repaint).

Usage: python scripts/bench_map.py [--points 25000] [--steps 60]
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tlgui.core.cleaning.embedding import EmbeddingMap, project  # noqa: E402
from tlgui.core.state import AppState  # noqa: E402
from tlgui.qt.data.embedding_panel import EmbeddingPanel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def repaint_seconds(widget) -> float:
    start = time.perf_counter()
    widget.viewport().repaint()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=25_000)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    n, classes = args.points, ["ants", "bees", "wasps", "flies"]
    labels = rng.integers(0, len(classes), n)
    values = rng.normal(size=(n, 1280)).astype(np.float32) + labels[:, None] * 0.05
    start = time.perf_counter()
    xy = project(values)
    print(f"PCA of {n:,} x 1,280 features: {time.perf_counter() - start:.2f} s")
    photos = sorted(str(p) for p in (ROOT / "tlgui" / "demo_data").rglob("*.jpg"))
    found = EmbeddingMap(xy=xy, paths=[photos[i % len(photos)] for i in range(n)],
                         labels=labels, predicted=labels, splits=["train"] * n,
                         classes=classes, method="pca")
    panel = EmbeddingPanel(AppState(), source=lambda: None)
    panel.resize(1280, 500)
    panel.show()
    app.processEvents()
    start = time.perf_counter()
    panel.show_map(found)
    app.processEvents()
    setup = time.perf_counter() - start
    print(f"one scatter item per class: setup {setup * 1000:.0f} ms, paint "
          f"{repaint_seconds(panel.plot) * 1000:.0f} ms")
    per_point = pg.PlotWidget()
    per_point.resize(1280, 500)
    per_point.show()
    brushes = [pg.mkBrush(("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")[c]) for c in labels]
    start = time.perf_counter()
    per_point.addItem(pg.ScatterPlotItem(xy[:, 0], xy[:, 1], size=4, pen=None, brush=brushes))
    app.processEvents()
    setup = time.perf_counter() - start
    print(f"one brush per point: setup {setup * 1000:.0f} ms, paint "
          f"{repaint_seconds(per_point) * 1000:.0f} ms")
    per_point.close()
    steps = []
    low, high = xy.min(0), xy.max(0)
    for step in range(args.steps):
        start = time.perf_counter()
        if step % 2:
            panel.view.translateBy(x=float(high[0] - low[0]) * 0.01, y=0.0)
        else:
            x, y = xy[rng.integers(0, n)]
            panel._hover(panel.view.mapViewToScene(QPointF(float(x), float(y))))
        app.processEvents()
        panel.plot.viewport().repaint()
        steps.append(time.perf_counter() - start)
    print(f"{args.steps} pan and hover steps over {n:,} points: longest "
          f"{max(steps) * 1000:.0f} ms, median {np.median(steps) * 1000:.0f} ms (goal <= 100 ms)")
    panel.shutdown()


if __name__ == "__main__":
    main()
