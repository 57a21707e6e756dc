"""A screenshot of the app following a headless ``tlgui train`` live (File → Follow run…).

Usage: python scripts/screenshot_follow.py [--out resources/screenshots/follow-run.png]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from screenshot_app import fresh_app

from tlgui.qt.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots" /
                        "follow-run.png")
    args = parser.parse_args()
    app = fresh_app()
    run = Path(tempfile.mkdtemp()) / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "tlgui", "train", "--model", "builtin:vgg64", "--weights",
         "none", "--data", str(ROOT / "tlgui" / "demo_data"), "--epochs", "6",
         "--batch-size", "16", "--augment", "light", "--out", str(run)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    window = MainWindow()
    window.fit_to(1400, 900)
    window.show()
    follower = window.runs.follow(run)
    epochs = []

    def shoot(event: dict) -> None:
        if event["event"] == "epoch_end":
            epochs.append(event)
        if len(epochs) == 3:  # mid-run: three of six epochs plotted
            epochs.append(None)
            QTimer.singleShot(500, lambda: (window.grab().save(str(args.out)), app.quit()))

    follower.event_shown.connect(shoot)
    app.exec()
    follower.stop()
    process.terminate()
    process.wait()
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
