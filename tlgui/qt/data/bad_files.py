"""The Dataset dock's "Bad files" tab: the header check's progress with a Stop, then what
it found (unusable files with why, converted ones with what is converted)."""

from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from tlgui.core.data.image_check import FileCheck


class BadFilesView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("No folder open")
        self.stop = QPushButton("Stop check")
        self.stop.setToolTip("Stop checking file headers; training still skips what it "
                             "cannot read")
        self.stop.setVisible(False)
        self.list = QListWidget()
        row = QHBoxLayout()
        row.addWidget(self.status, stretch=1)
        row.addWidget(self.stop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.list, stretch=1)

    def checking(self, done: int, total: int) -> None:
        self.list.clear()
        self.stop.setVisible(True)
        self.status.setText(f"Checking file headers: {done:,} of {total:,} …")

    def show_found(self, found: FileCheck) -> None:
        self.stop.setVisible(False)
        stopped = f"stopped after {found.checked:,} of {found.total:,} files · " \
            if found.checked < found.total else ""
        self.status.setText(f"{stopped}{len(found.bad):,} bad, {len(found.notes):,} converted"
                            f" (headers checked; training skips files that fail to decode)")
        self.list.clear()
        for path, reason in found.bad.items():
            self.list.addItem(f"{path}: {reason}")
        if not found.bad:
            self.list.addItem("no bad files found")
        for path, note in found.notes.items():
            self.list.addItem(f"{path}: {note} (used)")
