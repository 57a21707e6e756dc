"""tlgui: a desktop workbench for transfer learning with PyTorch."""

__version__ = "0.1.0"
