"""Changing examples on their way to the model: batch augmentation, table encoders."""
