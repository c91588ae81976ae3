"""The project's Hydra sweeper: an Optuna study searched through any Hydra launcher (search/)."""
