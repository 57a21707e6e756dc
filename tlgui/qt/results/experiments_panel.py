"""The Experiments dock: choose models and freezing strategies, run the grid on a worker
thread, watch the table and the charts fill, double-click a cell to open it."""

import math
import time
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataIndex
from tlgui.core.errors import TlguiError
from tlgui.core.model.sources import is_model_name, suggested_names, weights_availability, works_offline
from tlgui.core.runs.grid import Grid, cell_name, load_rows, run_grid
from tlgui.core.train.train_events import StopToken, TrainListener
from tlgui.core.validate import check_data
from tlgui.qt.results.results_panel import NumberItem
from tlgui.qt.widgets.background import BackgroundCall
from tlgui.qt.widgets.layout import EmptyState, across, stacked

COLOURS = {"shallow": "#1f77b4", "deep": "#d62728", "scratch": "#2ca02c"}
PARTIAL_COLOUR = "#ff7f0e"
SHOWN = ("model", "strategy", "trainable_params", "train_seconds", "inference_ms_batch1",
         "inference_ms_batch32", "best_val_accuracy", "best_epoch", "integrity_passed", "error")

Settings = Callable[[], tuple[TrainConfig, DataIndex]]  # (shared training settings, the data)


class GridSignals(QObject):
    """Emitted on the grid's thread, received on the GUI thread (queued)."""

    cell_started = Signal(int, int, str, str)
    row_ready = Signal(dict)
    batch = Signal(int, int)  # done, total batches of the cell in progress


class _Batches(TrainListener):
    def __init__(self, signals: GridSignals) -> None:
        self.signals, self.total, self.last = signals, 1, 0.0

    def on_fit_start(self, config, epochs, batches_per_epoch) -> None:
        self.total = max(epochs * batches_per_epoch, 1)

    def on_batch_end(self, stats) -> None:
        now = time.monotonic()
        if now - self.last > 0.1 or stats.batch + 1 == stats.batches:
            self.last = now
            self.signals.batch.emit(stats.epoch * stats.batches + stats.batch + 1, self.total)


def colour(strategy: str) -> str:
    return COLOURS.get(strategy, PARTIAL_COLOUR)


class ExperimentsPanel(QWidget):
    grid_finished = Signal(list)
    open_cell = Signal(str)  # a cell's run folder
    message = Signal(str)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.rows: list[dict] = []
        self.stop_token = StopToken()
        self._call: BackgroundCall | None = None
        self.signals = GridSignals()
        self.signals.cell_started.connect(self._cell_started)
        self.signals.row_ready.connect(self.add_row)
        self.signals.batch.connect(lambda done, total: (self.cell_progress.setMaximum(total),
                                                        self.cell_progress.setValue(done)))
        self.models = QListWidget()
        for name in suggested_names():
            self._add_model(name, checked=works_offline(name))
        self.extra = QLineEdit()
        self.extra.setPlaceholderText("another model: a torchvision name or timm:<name>, Enter")
        self.extra.returnPressed.connect(self._add_extra)
        self.strategy_boxes = {name: QCheckBox(name) for name in ("shallow", "deep", "scratch")}
        for box in self.strategy_boxes.values():
            box.setChecked(True)
        self.partial = QCheckBox("partial: last")
        self.partial_k = QSpinBox(minimum=1, maximum=50, value=2)
        self.out = QLineEdit(str(Path.home() / "tlgui-experiments" / time.strftime("%Y%m%d-%H%M")))
        self.run_button = QPushButton("Run grid")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.cell_progress, self.overall = QProgressBar(), QProgressBar()
        self.overall.setFormat("cell %v of %m")
        self.status = QLabel("Shared settings (epochs, batch size, rate, seed, device, data) "
                             "come from the Training dock.")
        self.status.setWordWrap(True)
        strategies = QHBoxLayout()
        for widget in (*self.strategy_boxes.values(), self.partial, self.partial_k,
                       QLabel("blocks")):
            strategies.addWidget(widget)
        left = QVBoxLayout()
        for widget in (QLabel("Models"), self.models, self.extra, QLabel("Strategies")):
            left.addWidget(widget)
        left.addLayout(strategies)
        for widget in (QLabel("Results folder"), self.out, self.run_button, self.stop_button,
                       self.cell_progress, self.overall, self.status):
            left.addWidget(widget)
        left_widget = QWidget()
        left_widget.setLayout(left)
        self.table = QTableWidget(0, len(SHOWN))
        self.table.setHorizontalHeaderLabels([c.replace("_", " ") for c in SHOWN])
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.accuracy_plot = pg.PlotWidget(title="Best validation accuracy vs training time")
        self.accuracy_plot.setLogMode(x=True, y=False)
        self.accuracy_plot.setLabel("bottom", "training seconds (log)")
        self.accuracy_plot.setLabel("left", "accuracy")
        self.inference_plot = pg.PlotWidget(title="Inference ms per image (batch 1)")
        for plot in (self.accuracy_plot, self.inference_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.setBackground("w")
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setMinimumHeight(150)
        self.legend = self.accuracy_plot.addLegend(offset=(10, -10))  # bottom left: free
        self.accuracy_plot.getViewBox().setDefaultPadding(0.12)  # room for the labels
        self.charts = EmptyState(across(self.accuracy_plot, self.inference_plot),
                                 "Tick models and strategies, then Run grid: every cell's "
                                 "accuracy, training time and inference speed appear here.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(across(left_widget, stacked(self.table, self.charts, stretch=(1, 1)),
                                stretch=(0, 1)))
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def _add_model(self, name: str, checked: bool = False) -> None:
        try:
            where = weights_availability(name, "default")
        except Exception:  # availability is a hint; any model name may still be typed
            where = "unknown"
        item = QListWidgetItem(f"{name} — {where}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.models.addItem(item)

    def _add_extra(self) -> None:
        name = self.extra.text().strip()
        if name and is_model_name(name):
            self._add_model(name, checked=True)
            self.extra.clear()
        elif name:
            self.status.setText(f"unknown model '{name}'")

    def chosen_models(self) -> list[str]:
        return [self.models.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.models.count())
                if self.models.item(i).checkState() == Qt.CheckState.Checked]

    def chosen_strategies(self) -> list[str]:
        out = [name for name, box in self.strategy_boxes.items() if box.isChecked()]
        return out + ([f"partial:{self.partial_k.value()}"] if self.partial.isChecked() else [])

    def run(self) -> BackgroundCall | None:
        """Run the grid (or the cells still missing in the results folder) on a worker thread."""
        if self.settings is None or (self._call is not None and self._call.running):
            return None
        try:
            config, data = self.settings()
            models, strategies = self.chosen_models(), self.chosen_strategies()
            if not models or not strategies:
                raise TlguiError("choose at least one model and one strategy")
            check_data(data)
            out = Path(self.out.text().strip())
            grid = Grid(models, strategies, config, out, load_rows(out))
        except TlguiError as exc:
            self.status.setText(f"Cannot run: {exc}")
            return None
        self.table.setRowCount(0)
        self.rows = []
        for row in grid.rows:
            self.add_row(row)
        self.stop_token.reset()
        self.overall.setRange(0, len(grid.cells()))
        self.overall.setValue(len(grid.rows))
        self._set_running(True)
        signals = self.signals
        self._call = BackgroundCall(lambda: run_grid(
            grid, data, stop=self.stop_token, listeners=[_Batches(signals)],
            on_cell=signals.cell_started.emit, on_row=signals.row_ready.emit), self)
        self._call.done.connect(self._finished)
        self._call.failed.connect(lambda text: (self._set_running(False),
                                                self.status.setText(f"Failed: {text}")))
        self._call.start()
        return self._call

    def show_results(self, folder: str | Path) -> None:
        """Show the rows of an earlier comparison (its results.json)."""
        self.out.setText(str(folder))
        self.table.setRowCount(0)
        self.rows = []
        for row in load_rows(Path(folder)):
            self.add_row(row)
        self.status.setText(f"{len(self.rows)} cells from {folder}")

    def stop(self) -> None:
        self.stop_token.stop()
        self.status.setText("Stopping after this batch; Run grid resumes where it stopped.")

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _cell_started(self, number: int, total: int, model: str, strategy: str) -> None:
        self.overall.setValue(number)
        self.cell_progress.setValue(0)
        self.status.setText(f"cell {number + 1} of {total}: {model} · {strategy}")

    def _finished(self, rows: list) -> None:
        self._set_running(False)
        self.overall.setValue(len(rows))
        stopped = self.stop_token.stopped and len(rows) < self.overall.maximum()
        self.status.setText(("Stopped" if stopped else "Finished") + f": {len(rows)} cells in "
                            f"{self.out.text()}")
        self.message.emit(self.status.text())
        self.grid_finished.emit(rows)

    def add_row(self, row: dict) -> None:
        self.rows.append(row)
        self.charts.show_content()
        self.table.setSortingEnabled(False)
        index = self.table.rowCount()
        self.table.insertRow(index)
        for col, key in enumerate(SHOWN):
            value = row.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                item = NumberItem(f"{value:,}" if isinstance(value, int) else f"{value:.3f}")
                item.setData(Qt.ItemDataRole.UserRole, value)
            else:
                item = QTableWidgetItem("" if value is None else str(value))
            item.setData(Qt.ItemDataRole.UserRole + 1, cell_name(row["model"], row["strategy"]))
            self.table.setItem(index, col, item)
        self.table.setSortingEnabled(True)  # cell order until a header is clicked
        self.table.resizeColumnsToContents()
        self._draw()

    def _draw(self) -> None:
        self.accuracy_plot.clear()
        self.inference_plot.clear()
        self.legend.clear()
        good = [r for r in self.rows if not r.get("error") and r.get("train_seconds")]
        for strategy in dict.fromkeys(r["strategy"] for r in good):
            mine = [r for r in good if r["strategy"] == strategy]
            self.accuracy_plot.plot([r["train_seconds"] for r in mine],
                                    [r["best_val_accuracy"] or 0 for r in mine], pen=None,
                                    symbol="o", symbolSize=11, symbolBrush=colour(strategy),
                                    name=strategy)
            for r in mine:
                label = pg.TextItem(r["model"], color="#444", anchor=(0, 1))
                label.setPos(math.log10(r["train_seconds"]), r["best_val_accuracy"] or 0)
                self.accuracy_plot.addItem(label)
        bars = [r for r in good if r.get("inference_ms_batch1")]
        if bars:
            self.inference_plot.addItem(pg.BarGraphItem(
                x=list(range(len(bars))), height=[r["inference_ms_batch1"] for r in bars],
                width=0.7, brushes=[colour(r["strategy"]) for r in bars]))
            self.inference_plot.getAxis("bottom").setTicks(
                [[(i, f"{r['model']}\n{r['strategy']}") for i, r in enumerate(bars)]])

    def _double_clicked(self, row: int, _column: int) -> None:
        name = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole + 1)
        folder = Path(self.out.text().strip()) / name
        if (folder / "run.json").is_file():
            self.open_cell.emit(str(folder))
        else:
            self.status.setText(f"{folder} holds no finished run")
