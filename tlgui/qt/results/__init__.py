"""After training: evaluation, prediction, experiment grids, exports."""
