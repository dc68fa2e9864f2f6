"""The Kaggle dataset: weekly exports, metadata, charts, reference files, publishing."""
