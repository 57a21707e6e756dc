"""The model's views: the layer tree, opening a model, branches, weights."""
