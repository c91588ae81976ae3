"""Everything around the method, behind one seam (`context.Run`): the run's directory, run.json,
manifest, checkpoints, settings and the objects its config names.

What train.py imports at its top is free of torch and Lightning, so `train.py --help` stays fast.
"""
