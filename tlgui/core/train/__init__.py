"""Training: the engine and its events, optimisers, caches, checkpoints, integrity, devices,
torchrun, run folders and logs, experiment grids."""
