"""tlgui: a desktop workbench for transfer learning with PyTorch."""

import os

# cuBLAS reads this once, when CUDA starts in this process: set before any tlgui module
# imports torch, so that a deterministic run works after earlier CUDA work (an unset value
# makes deterministic matrix products refuse to run). A value set by the user is kept.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

__version__ = "0.1.0"
