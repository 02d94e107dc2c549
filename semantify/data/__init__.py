"""Datasets of (coefficients, image embeddings, measurements): what a dataset is and its
per-batch pipeline (``generation``), and its files, readable without our code (``dataset``)."""
