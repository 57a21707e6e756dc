"""Dataset browser at scale: index time, first screen of thumbnails, memory while scrolling
to the end, and the longest GUI-thread stall.

Usage: python scripts/bench_browser.py [--images 25000] [--dir /tmp/tlgui-25k]
The folder (two classes of small JPEGs cut from the bundled ants/bees photos) is made once
and reused. Up to 100,000 images it scrolls to the end page by page; beyond, it waits for the
scan to end, jumps to the end, filters by name and by class, and scrolls up 30 pages.
Goals: first screen < 1 s while the scan goes on, no GUI-thread gap > 100 ms, memory
+ 500 MB at most for a million.
"""

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tlgui.core.data.data_index import index_folder  # noqa: E402
from tlgui.qt.data.dataset_panel import DatasetPanel  # noqa: E402
from tlgui.qt.interpreter import install as set_up_interpreter  # noqa: E402
from tlgui.qt.train.stall_watch import StallWatch  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "tlgui" / "demo_data"
PAGED = 100_000  # up to this many, scroll to the end page by page; beyond, jump and filter
PAGES = 30  # beyond PAGED: pages scrolled up after the filters
LINKED = 5_000  # images made as JPEGs; beyond, hard links to them (a million in minutes)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_folder(root: Path, count: int) -> None:
    marker = root / f".made-{count}"
    if marker.exists():
        return
    rng = random.Random(0)
    sources = {c: [Image.open(p).convert("RGB") for p in sorted((DEMO / "train" / c).glob("*"))]
               for c in ("ants", "bees")}
    tiles = root.parent / f"{root.name}-tiles"  # beyond LINKED images, hard links to these
    for i in range(count):
        name = ("ants", "bees")[i % 2]
        folder = root / "train" / name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}_{i:07d}.jpg"
        if i >= LINKED:
            os.link(tiles / f"{i % LINKED}.jpg", target)
            continue
        photo = rng.choice(sources[name])
        w, h = photo.size
        side = rng.randint(min(w, h) // 2, min(w, h))
        x, y = rng.randint(0, w - side), rng.randint(0, h - side)
        tile = photo.crop((x, y, x + side, y + side)).resize((128, 96))
        tile.save(target, quality=80)
        tiles.mkdir(exist_ok=True)
        os.link(target, tiles / f"{i}.jpg")
    marker.touch()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=25_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "tlgui-bench")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="save the dock at its first screen and at the end here")
    args = parser.parse_args()
    root = args.dir / f"{args.images}"
    start = time.perf_counter()
    make_folder(root, args.images)
    print(f"folder: {root} ({time.perf_counter() - start:.1f} s to make or find)")
    start = time.perf_counter()
    index = index_folder(root)
    index_seconds = time.perf_counter() - start
    print(f"index: {sum(len(s) for s in index.splits.values()):,} files in "
          f"{index_seconds * 1000:.0f} ms")
    del index  # the memory measured is the dock's own
    gc.collect()

    app = QApplication(sys.argv)
    set_up_interpreter(app)
    thumbs = Path(tempfile.mkdtemp(prefix="tlgui-thumbs-"))  # a cold thumbnail cache
    panel = DatasetPanel(thumbnail_dir=thumbs)
    panel.resize(1280, 800)
    panel.show()
    watch = StallWatch(interval_ms=5)
    watch.start()
    results: dict[str, float] = {"rss_before": rss_mb()}
    opened = time.perf_counter()
    panel.open_folder(str(root))

    def first_screen() -> None:
        rows = list(panel.grid.visible_rows())
        paths = [panel.model.sample(r)[0] for r in rows]
        if rows and all(p in panel.loader.memory for p in paths):
            results["first_screen"] = time.perf_counter() - opened
            results["on_screen"] = len(rows)
            results["rss_indexed"] = rss_mb()
            shoot("browser-scanning")
            QTimer.singleShot(0, scroll)
        else:
            for r in rows:  # the view asks again once it repaints; this keeps it honest
                panel.model.data(panel.model.index(r), 1)
            QTimer.singleShot(10, first_screen)

    bar = panel.grid.verticalScrollBar()
    peak = [0.0]

    def until(condition, then, started: float, key: str) -> None:
        """Call ``then`` once ``condition()`` holds, noting how long it took under ``key``."""
        if condition():
            results[key] = time.perf_counter() - started
            then()
        else:
            QTimer.singleShot(5, lambda: until(condition, then, started, key))

    total = args.images

    def jump_and_filter() -> None:
        results["scanned"] = time.perf_counter() - opened
        start = time.perf_counter()
        bar.setValue(bar.maximum())
        app.processEvents()
        results["jump"] = time.perf_counter() - start
        panel.search.setText("_0999")
        until(lambda: panel.model.filtered and panel.model.rowCount() < total, by_class,
              time.perf_counter(), "filter")

    def by_class() -> None:
        results["filtered"] = panel.model.rowCount()
        panel.search.setText("")
        panel.class_box.setCurrentText("bees")
        until(lambda: panel.model.rowCount() == total // 2, lambda: page_up(PAGES),
              time.perf_counter(), "class_filter")

    def page_up(left: int) -> None:
        """The end, then a page up at a time, as a reader would (with the check going on)."""
        if not left:
            finish()
            return
        bar.setValue(bar.maximum() if left == PAGES else bar.value() - bar.pageStep())
        QTimer.singleShot(30, lambda: page_up(left - 1))

    def finish() -> None:
        results["rss_peak"] = max(results["rss_indexed"], rss_mb())
        panel.side.setCurrentIndex(1)  # the Bad files tab: the header check going on
        shoot("browser-bad-file-check")
        app.quit()

    def shoot(name: str) -> None:
        if args.screenshots is not None:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            panel.grab().save(str(args.screenshots / f"{name}-{args.images}.png"))

    def scroll() -> None:
        if args.images > PAGED:
            until(lambda: panel.index is not None, jump_and_filter, opened, "scanned")
            return
        peak[0] = max(peak[0], rss_mb())
        if bar.value() >= bar.maximum():
            results["scroll_end"] = time.perf_counter() - opened
            results["rss_peak"] = peak[0]
            app.quit()
            return
        bar.setValue(bar.value() + bar.pageStep())
        QTimer.singleShot(30, scroll)

    QTimer.singleShot(0, first_screen)
    app.exec()
    watch.stop()
    panel.shutdown()
    stalls = [gap * 1000 for gap in watch.longest(3)]
    print(f"first screen of thumbnails: {results['first_screen'] * 1000:.0f} ms "
          f"({results['on_screen']:.0f} thumbnails, cold cache)")
    if "jump" in results:
        print(f"scan ended {results['scanned']:.1f} s after opening; jump to the end: "
              f"{results['jump'] * 1000:.0f} ms; filter by name '_0999': "
              f"{results['filter'] * 1000:.0f} ms ({results['filtered']:,} shown, 150 ms of "
              f"it the pause after typing); class 'bees': {results['class_filter'] * 1000:.0f} ms; "
              f"then {PAGES} pages scrolled up")
    else:
        print(f"scrolled to the end page by page in {results['scroll_end']:.1f} s")
    print(f"memory (RSS): {results['rss_before']:.0f} MB before, {results['rss_indexed']:.0f} MB "
          f"with the index and first screen, peak {results['rss_peak']:.0f} MB afterwards "
          f"(scrolling, or the jump and filter); "
          f"thumbnails in memory: {len(panel.loader.memory)} (bound 1500)")
    print(f"longest GUI-thread gaps (5 ms timer): {', '.join(f'{g:.0f} ms' for g in stalls)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
