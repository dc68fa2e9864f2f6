"""The weekly Kaggle dataset: exports, the dataset asset and its sensor."""
