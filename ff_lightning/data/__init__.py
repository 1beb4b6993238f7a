"""Datasets, each held whole as tensors on the training device."""

# how an IMDb review's word vectors become one vector (data/text.py); here, free of torch, for
# the checks before a run
POOLINGS = ("mean", "tfidf")
