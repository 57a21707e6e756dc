"""The bundled ants-vs-bees photos (package data, so a plain ``pip install`` has them)."""

from pathlib import Path

DEMO_DATA = Path(__file__).resolve().parents[2] / "demo_data"
