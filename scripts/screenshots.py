"""Screenshots of the app: open the offline default, train briefly on the demo data, and save
PNGs of the whole window and, at 1280x800, of the window with each dock raised.

Usage: python scripts/screenshots.py [--out resources/screenshots] [--epochs 3]
Runs offscreen unless a display is set (QT_QPA_PLATFORM=offscreen is the default here).
"""

import argparse
from pathlib import Path

from PySide6.QtCore import QTimer
from screenshot_app import ROOT, shown_window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args, app, window = shown_window(parser, 1400, 900)
    saved: list[Path] = []

    def grab(widget, name: str) -> None:
        path = args.out / f"{name}.png"
        widget.grab().save(str(path))
        saved.append(path)

    def finished(info: dict) -> None:
        pending = {"results", "predict"}

        def done(name: str) -> None:
            pending.discard(name)
            if not pending:
                QTimer.singleShot(300, lambda: shoot_and_quit(info))

        window.results.evaluated.connect(lambda *_: done("results"))  # evaluated by itself
        window.predict.predicted.connect(lambda *_: done("predict"))
        window.predict.predict([str(ROOT / "tlgui" / "demo_data" / "val")])

    def shoot_and_quit(info: dict) -> None:
        window.docks["Training"].raise_()
        for width, height in ((1280, 800), (1920, 1080)):  # common screens, fresh layout
            window.fit_to(width, height)
            app.processEvents()
            grab(window, f"main-window-{width}x{height}")
        window.fit_to(1400, 900)
        app.processEvents()
        grab(window, "main-window")
        grab(window.view, "model-panel")
        window.fit_to(1280, 800)  # a laptop: every dock's main action must be in view
        app.processEvents()
        print(f"training: {info['epochs']} epochs, error: {info['error']}")
        docks = list(window.docks.values())

        def next_dock() -> None:
            if not docks:
                app.quit()
                return
            dock = docks.pop(0)
            dock.raise_()
            if dock.widget() is window.dataset:
                window.dataset.grid.set_current_row(0)
            if dock.widget() is window.weights:
                window.weights.filter.setCurrentText("changed")
                window.weights.table.selectRow(0)
            name = dock.objectName().removesuffix("-dock")
            QTimer.singleShot(2500, lambda: (grab(window, f"{name}-1280x800"), next_dock()))

        next_dock()

    def loaded(*_args) -> None:
        window.head_only_action.trigger()  # the "head only" preset
        window.training.form.epochs.setValue(args.epochs)
        window.training.run_finished.connect(finished)
        window.training.start()

    window.open_model("default").done.connect(lambda *_: QTimer.singleShot(100, loaded))
    app.exec()
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
