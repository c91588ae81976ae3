"""How a run's processes start: ranks, DDP without Lightning's re-launch, SLURM. Imports nothing
else of this package."""
