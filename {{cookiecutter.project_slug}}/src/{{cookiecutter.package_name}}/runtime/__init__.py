"""What a run needs around the method: its directory, its record, resuming, building from config.

Modules here import torch/Lightning only inside functions, so `train.py --help` stays fast.
"""
