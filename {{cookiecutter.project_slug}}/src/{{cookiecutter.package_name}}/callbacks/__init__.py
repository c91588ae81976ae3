"""Project-specific Lightning callbacks; Lightning's own are configured in `configs/callbacks/`."""
