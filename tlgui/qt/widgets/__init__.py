"""Widgets and helpers that several docks share: layout, item-model columns, background calls."""
