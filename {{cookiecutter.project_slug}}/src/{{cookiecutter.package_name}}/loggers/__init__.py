"""Logger factories that add behaviour Lightning's loggers lack (see `configs/logger/`)."""
