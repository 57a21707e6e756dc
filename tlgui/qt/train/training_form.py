"""The training settings form: every field maps to one ``TrainConfig`` field."""


from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from tlgui.core.config import TrainConfig, check_config, choices_of, help_of, parse_unfreeze
from tlgui.core.data.demo import DEMO_DATA


def _combo(name: str, defaults: TrainConfig) -> QComboBox:
    """A combo box of a TrainConfig field's choices, as ``tlgui.core.config`` lists them."""
    box = QComboBox()
    box.addItems(list(choices_of(name)))
    box.setCurrentText(getattr(defaults, name))
    box.setToolTip(help_of(name))
    return box


def _row(*widgets: QWidget, grow: QWidget | None = None) -> QWidget:
    """``widgets`` side by side in one form row; ``grow`` takes the spare width (else the
    row ends with empty space)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, stretch=1 if widget is grow else 0)
    if grow is None:
        layout.addStretch(1)
    return row


def _value(widget: QWidget):
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    return widget.value()


def _show(widget: QWidget, value) -> None:
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(str(value))
    else:
        widget.setValue(value)


class TrainingForm(QWidget):
    data_folder_changed = Signal(str)
    find_lr_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = TrainConfig()
        self.lr_multipliers: dict[str, float] = {}  # set from the Model panel's context menu
        self.data_edit = QLineEdit(str(DEMO_DATA) if DEMO_DATA.is_dir() else "")
        self.data_edit.setPlaceholderText("folder with train/ and val/ (or one folder per class)")
        self.data_edit.editingFinished.connect(
            lambda: self.data_folder_changed.emit(self.data_edit.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        data_widget = _row(self.data_edit, browse, grow=self.data_edit)

        self.epochs = QSpinBox(minimum=1, maximum=1000, value=defaults.epochs)
        self.batch_size = QSpinBox(minimum=1, maximum=4096, value=defaults.batch_size)
        self.optimizer = _combo("optimizer", defaults)
        self.lr = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=10.0, singleStep=1e-4,
                                 value=defaults.lr)
        self.find_lr_button = QPushButton("Find…")
        self.find_lr_button.setToolTip("the learning-rate range test: seconds when features "
                                       "are cached; the model is left as it was")
        self.find_lr_button.clicked.connect(self.find_lr_requested)
        self.pretrained_mult = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=1.0,
                                              singleStep=0.05, value=defaults.pretrained_lr_mult)
        self.pretrained_mult.setToolTip(help_of("pretrained_lr_mult"))
        self.spread = _combo("lr_spread", defaults)
        self.schedule = _combo("schedule", defaults)
        self.unfreeze = QLineEdit()
        self.unfreeze.setPlaceholderText("e.g. 3:all or 3:2 5:all (epoch:all|last K blocks)")
        self.device = _combo("device", defaults)
        self.amp = QCheckBox("mixed precision")
        self.amp.setToolTip(help_of("amp"))
        self.channels_last = QCheckBox("channels-last")
        self.channels_last.setToolTip(help_of("channels_last"))
        self.image_cache = QCheckBox("keep decoded images")
        self.image_cache.setToolTip(
            "decoded, resized images are kept on disk (~/.cache/tlgui/decoded, at most "
            f"{defaults.image_cache_mb // 1024} GB) so later epochs skip JPEG decoding; "
            "flips and colour jitter run on whole batches on the device")
        self.gpu_decode = QCheckBox("decode JPEGs on the GPU")
        self.gpu_decode.setToolTip("fill the image cache with JPEGs decoded by the GPU (CUDA) "
                                   "before the first epoch")
        self.gpu_decode.setEnabled(False)
        self.image_cache.toggled.connect(self._image_cache_toggled)
        self.cache = _combo("cache", defaults)
        self.augment = _combo("augment", defaults)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=defaults.seed)
        self.seed.setToolTip("governs everything random: the split, shuffling, augmentation, "
                             "dropout, and a new head or branch of a model opened afterwards")
        self.deterministic = QCheckBox("deterministic algorithms (same run on CUDA; slower)")

        form = QFormLayout(self)
        rows = (("Data folder", data_widget), ("Epochs", self.epochs),
                ("Batch size", self.batch_size), ("Optimiser", self.optimizer),
                ("Learning rate", _row(self.lr, self.find_lr_button, grow=self.lr)),
                ("Pretrained ×", self.pretrained_mult),
                ("Rate spread", self.spread), ("Schedule", self.schedule),
                ("Unfreeze at", self.unfreeze), ("Device", self.device),
                ("", _row(self.amp, self.channels_last)),
                ("Feature cache", self.cache),
                ("Image cache", _row(self.image_cache, self.gpu_decode)),
                ("Augmentation", self.augment),
                ("Seed", self.seed), ("", self.deterministic))
        for label, widget in rows:
            form.addRow(label, widget)
        for name, widget in self._fields().items():
            _show(widget, getattr(defaults, name))

    def _image_cache_toggled(self, on: bool) -> None:
        self.gpu_decode.setEnabled(on)
        if not on:
            self.gpu_decode.setChecked(False)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Image folder", self.data_edit.text())
        if folder:
            self.data_edit.setText(folder)
            self.data_folder_changed.emit(folder)

    def _fields(self) -> dict[str, QWidget]:
        """The widgets that show one TrainConfig field each, by field name."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "optimizer": self.optimizer, "pretrained_lr_mult": self.pretrained_mult,
                "lr_spread": self.spread, "schedule": self.schedule, "device": self.device,
                "amp": self.amp, "channels_last": self.channels_last, "cache": self.cache,
                "image_cache": self.image_cache, "gpu_decode": self.gpu_decode,
                "augment": self.augment, "seed": self.seed, "deterministic": self.deterministic}

    def config(self, checkpoint_dir: str | None = None) -> TrainConfig:
        """The settings as a checked TrainConfig; raises ValidationError naming the field."""
        config = TrainConfig(
            **{name: _value(widget) for name, widget in self._fields().items()},
            unfreeze=parse_unfreeze(self.unfreeze.text().split()),
            checkpoint_dir=checkpoint_dir, lr_multipliers=dict(self.lr_multipliers))
        check_config(config)
        return config

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` (a saved or followed run's settings)."""
        for name, widget in self._fields().items():
            _show(widget, getattr(config, name))
        self.unfreeze.setText(" ".join(f"{s.epoch + 1}:{s.what}" for s in config.unfreeze))
        self.lr_multipliers = dict(config.lr_multipliers)

    def field_widget(self, field: str) -> QWidget | None:
        """The widget that edits a TrainConfig field (to point at a bad value)."""
        return {**self._fields(), "unfreeze": self.unfreeze, "data": self.data_edit,
                "split_ratio": self.data_edit, "image_cache_mb": self.image_cache}.get(field)

    def mark_invalid(self, field: str, message: str) -> None:
        """Outline the field's widget in red with the message as its tooltip; clear others."""
        for widget in self.findChildren(QWidget):
            if widget.property("tlgui_invalid"):
                widget.setProperty("tlgui_invalid", False)
                widget.setStyleSheet("")
                widget.setToolTip(widget.property("tlgui_tip") or "")
        widget = self.field_widget(field)
        if widget is not None and message:
            widget.setProperty("tlgui_invalid", True)
            widget.setProperty("tlgui_tip", widget.toolTip())
            widget.setStyleSheet("border: 2px solid #c62828;")
            widget.setToolTip(message)

    def data_folder(self) -> str:
        return self.data_edit.text().strip()
