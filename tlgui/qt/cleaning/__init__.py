"""The Clean dock: reviewing likely label errors, copies, leaks and outliers."""
