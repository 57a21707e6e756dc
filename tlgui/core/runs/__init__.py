"""Runs: the run record (model source, settings, the exact split, versions), its folder
lock, the experiment grid and the one training service."""
