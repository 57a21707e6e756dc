"""The Model and Edit menus and the Freezing toolbar of the main window."""

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow

from tlgui.qt.actions import make_action


def make_model_actions(window: QMainWindow) -> None:
    """Open, the freezing presets, head, branch, undo and redo, as ``window``'s actions
    (``window.head_only_action``, …), in the menus and on the toolbar; the model's own
    actions start disabled (no model is open yet)."""
    model_menu = window.menuBar().addMenu("&Model")
    model_menu.addAction(make_action(window, "&Open model…", window.choose_model, "Ctrl+M"))
    window.head_only_action = make_action(
        window, "Freeze all but the &head",
        lambda: window._apply({"op": "preset", "name": "head-only"}), "Ctrl+H")
    window.all_trainable_action = make_action(
        window, "Make &all trainable",
        lambda: window._apply({"op": "preset", "name": "all"}), "Ctrl+A")
    window.first_k_action = make_action(window, "Freeze the first &k blocks…",
                                        window.freeze_first_blocks)
    window.head_action = make_action(window, "&Replace head…", window.replace_head, "Ctrl+R")
    window.branch_action = make_action(window, "Add parallel &branch…", window.add_branch,
                                       "Ctrl+B")
    window.undo_action = make_action(window, "&Undo", lambda: window._step(undo=True),
                                     QKeySequence.StandardKey.Undo)
    window.redo_action = make_action(window, "&Redo", lambda: window._step(undo=False),
                                     "Ctrl+Shift+Z", QKeySequence.StandardKey.Redo)
    edit_menu = window.menuBar().addMenu("&Edit")
    edit_menu.addAction(window.undo_action)
    edit_menu.addAction(window.redo_action)
    toolbar = window.addToolBar("Freezing")
    toolbar.setObjectName("freezing-toolbar")
    for action in window._model_actions():
        action.setEnabled(False)
        model_menu.addAction(action)
        toolbar.addAction(action)
    model_menu.addSeparator()
    model_menu.addAction(make_action(window, "&Quit", window.close,
                                     QKeySequence.StandardKey.Quit))
    toolbar.addSeparator()
    toolbar.addAction(window.undo_action)
    toolbar.addAction(window.redo_action)
