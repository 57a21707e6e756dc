"""Screenshots of the Clean dock after a review: train briefly, check the data set, accept
the first label issues, exclude the first outlier, keep the next, retrain with the
corrections, and save the window at 1280x800 and 1920x1080 with the before/after table.

Usage: python scripts/screenshot_clean.py [--data DIR] [--out resources/screenshots]
"""

import argparse

from PySide6.QtCore import QTimer
from screenshot_app import shown_window, train_then


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args, app, window = shown_window(parser, 1280, 800, data=True)
    panel, training = window.clean, window.training

    def review(_report: dict) -> None:
        print(panel.status.text())
        for _ in range(min(3, len(panel.items["label_issues"]))):
            panel.decide("accept")
        if panel.items["outliers"]:
            panel.tabs.setCurrentIndex(2)
            panel.lists["outliers"].setCurrentRow(0)
            panel.decide("exclude")
            panel.decide("keep")
        panel.tabs.setCurrentIndex(0)
        panel.lists["label_issues"].setCurrentRow(0)
        training.run_finished.connect(retrained)
        panel.comparison.button.click()

    def retrained(_info: dict) -> None:
        before, after = panel.comparison.columns()
        print("before:", before)
        print("after: ", after)
        QTimer.singleShot(2500, shoot)

    def shoot() -> None:
        window.docks["Clean"].raise_()
        for width, height in ((1280, 800), (1920, 1080)):
            window.fit_to(width, height)
            app.processEvents()
            path = args.out / f"clean-{width}x{height}.png"
            window.grab().save(str(path))
            print(path)
        app.quit()

    def trained(_info: dict) -> None:
        window.docks["Clean"].raise_()
        panel.checked.connect(review)
        panel.check()

    train_then(window, args.data, args.epochs, trained)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
