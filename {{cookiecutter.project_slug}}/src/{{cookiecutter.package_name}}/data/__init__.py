"""LightningDataModules, one data set per file; selected with `data=<name>`."""
