"""Image folders: indexing, checks, datasets, the decoded-image cache and batch augmentation."""
