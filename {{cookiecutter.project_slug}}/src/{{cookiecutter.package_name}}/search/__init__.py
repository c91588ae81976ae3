"""Hyper-parameter search: an Optuna study whose trials are Hydra jobs (`hparams_search=...`)."""
