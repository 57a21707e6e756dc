"""The PySide6 layer: views over the core, and workers that keep the window responsive."""
