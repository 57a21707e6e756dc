"""Screenshots of the explanation dialog and the Map dock after a real run: train the
offline default head-only, predict the validation images, open the explanation of the first
mistake (or the first row), then compute the map coloured right/wrong and hover a point.

Usage: python scripts/screenshot_explain_map.py [--data DIR] [--out resources/screenshots]
"""

import argparse
from pathlib import Path

from PySide6.QtCore import QPointF, QTimer
from screenshot_app import shown_window, train_then


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args, app, window = shown_window(parser, 1280, 800, data=True)
    predict, view = window.predict, window.map

    def predicted(results: list) -> None:
        wrong = [i for i, r in enumerate(results) if "top" in r
                 and r["top"][0]["label"] != Path(r["image"]).parent.name]
        dialog = predict.explain(wrong[0] if wrong else 0)
        poll = QTimer(window)

        def ready() -> None:
            if dialog.explanation is not None:
                poll.stop()
                print(dialog.status.text())
                app.processEvents()
                dialog.grab().save(str(args.out / "explain-dialog.png"))
                dialog.close()
                window.docks["Map"].raise_()
                view.colour.setCurrentText("correct or wrong")
                view.computed.connect(lambda *_: QTimer.singleShot(500, shoot))
                view.compute()

        poll.timeout.connect(ready)
        poll.start(200)

    def shoot() -> None:
        print(view.status.text())
        for width, height in ((1280, 800), (1920, 1080)):
            window.fit_to(width, height)
            app.processEvents()
            wrong = [i for i in range(len(view.map.paths)) if not view.map.correct[i]]
            x, y = view.map.xy[wrong[0] if wrong else 0]
            view._hover(view.view.mapViewToScene(QPointF(float(x), float(y))))
            while view.preview.pixmap().isNull():  # the thumbnail decodes on a pool thread
                app.processEvents()
            window.grab().save(str(args.out / f"map-{width}x{height}.png"))
        app.quit()

    def trained(_info: dict) -> None:
        window.docks["Predict"].raise_()
        predict.predicted.connect(predicted)
        predict.predict([str(args.data / "val")])

    train_then(window, args.data, args.epochs, trained)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
