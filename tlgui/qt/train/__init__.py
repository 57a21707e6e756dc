"""Training views: the settings form, the panel with live plots, its worker, followed runs."""
