"""hydra/launcher=slurm: hydra-submitit-launcher, checking each job before it is submitted."""
