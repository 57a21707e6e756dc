"""Models: where they come from, their layer trees, freezing, heads, branches, weights."""
