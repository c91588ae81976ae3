"""What one run leaves behind and how it is built: its directory, run.json, manifest, checkpoints,
settings and the objects its config names.

Modules here import torch/Lightning only inside functions, so `train.py --help` stays fast.
"""
