"""The "Open model" dialog: a searchable list of every source, its weights and whether
they are available here; a local weights file or a Python factory (which runs code)."""

from PySide6.QtCore import QSortFilterProxyModel, QStringListModel, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
)

from tlgui.core.errors import TlguiError
from tlgui.core.model.sources import known_names, weights_availability, weights_choices
from tlgui.core.validate import parse_input_size

FACTORY_WARNING = ("A Python factory runs the code in that file with your permissions. Open "
                   "only files you trust.")


def all_names() -> list[str]:
    import timm

    return known_names() + [f"timm:{n}" for n in timm.list_models(pretrained=True)]


class OpenModelDialog(QDialog):
    """``choice()`` gives (model spec, weights, trust_code, input size or None) after
    ``accept``."""

    def __init__(self, parent=None, names: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open model")
        self.resize(640, 560)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search: resnet, vit, efficientnet, builtin …")
        self.names = QStringListModel(names if names is not None else all_names(), self)
        self.filtered = QSortFilterProxyModel(self)
        self.filtered.setSourceModel(self.names)
        self.filtered.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(self.filtered.setFilterFixedString)
        self.list = QListView()
        self.list.setModel(self.filtered)
        self.list.setUniformItemSizes(True)
        self.list.selectionModel().currentChanged.connect(self._selected)
        self.list.doubleClicked.connect(self.accept)
        self.weights = QComboBox()
        self.weights.currentTextChanged.connect(self._availability)
        self.available = QLabel()
        self.file = QLineEdit()
        self.file.setPlaceholderText("optional: a .safetensors, .pt or .pth weights file")
        self.file.textChanged.connect(self._availability)
        browse = QPushButton("Weights file…")
        browse.clicked.connect(self._browse_weights)
        factory = QPushButton("Python factory…")
        factory.clicked.connect(self._browse_factory)
        self.trust = QCheckBox("I trust this file: run its code")
        self.trust.setVisible(False)
        self.warning = QLabel(FACTORY_WARNING)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b00020;")
        self.warning.setVisible(False)
        files = QHBoxLayout()
        files.addWidget(self.file, stretch=1)
        files.addWidget(browse)
        files.addWidget(factory)
        self.input_size = QLineEdit()
        self.input_size.setPlaceholderText("auto: what the model declares, else the first of "
                                           "224, 32, 28, 64, 96, 128, 299 that runs")
        self.input_size.setToolTip("channels x height x width, e.g. 3x32x32")
        self.size_error = QLabel()
        self.size_error.setStyleSheet("color: #b00020;")
        self.size_error.setVisible(False)
        self.input_size.textChanged.connect(lambda: self.size_error.setVisible(False))
        form = QFormLayout()
        form.addRow("Weights", self.weights)
        form.addRow("Available", self.available)
        form.addRow("Input size", self.input_size)
        form.addRow("", self.size_error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for item in (self.search, self.list, form, files, self.trust, self.warning, buttons):
            (layout.addLayout if isinstance(item, (QFormLayout, QHBoxLayout))
             else layout.addWidget)(item)
        self.spec = "default"
        self.list.setCurrentIndex(self.filtered.index(0, 0))

    def _selected(self, current, _previous=None) -> None:
        if not current.isValid():
            return
        self.spec = current.data()
        self.weights.clear()
        self.weights.addItems(weights_choices(self.spec))

    def _availability(self, *_args) -> None:
        weights = self.file.text().strip() or self.weights.currentText()
        if weights:
            self.available.setText(weights_availability(self.spec, weights))

    def _browse_weights(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Weights file", "",
                                              "Weights (*.safetensors *.pt *.pth *.bin)")
        if name:
            self.file.setText(name)

    def _browse_factory(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Python model factory", "", "Python (*.py)")
        if name:
            self.use_factory(f"{name}:create_model")

    def use_factory(self, spec: str) -> None:
        """Open a user's ``file.py:factory``; it only runs once the box is ticked."""
        self.spec = spec
        self.search.setText("")
        self.weights.clear()
        self.weights.addItems(["none"])
        self.available.setText(f"your code: {spec}")
        self.trust.setVisible(True)
        self.warning.setVisible(True)

    def size(self) -> tuple[int, int, int] | None:
        text = self.input_size.text().strip()
        return parse_input_size(text) if text else None

    def accept(self) -> None:
        try:
            self.size()
        except TlguiError as exc:  # said beside the field; the dialog stays open
            self.size_error.setText(str(exc))
            self.size_error.setVisible(True)
            return
        super().accept()

    def choice(self) -> tuple[str, str, bool, tuple[int, int, int] | None]:
        weights = self.file.text().strip() or self.weights.currentText() or "default"
        return self.spec, weights, self.trust.isChecked(), self.size()
