"""Software-defined assets, grouped by domain (registry, x, trends, kaggle, archive)."""
