"""Finding what is wrong with a data set: likely label errors, duplicates and leaks between
splits, and outliers, from the features feature caching computes anyway."""
