"""`hydra/launcher=slurm`: hydra-submitit-launcher's SLURM launcher, with two changes.

- Before anything is submitted, each job's trainer config is checked against the job's shape
  (`nodes`, `tasks_per_node`, `gpus_per_node`): a mismatch stops the sweep in one line
  ({{ cookiecutter.package_name }}/launch/slurm_shape.py) instead of failing in every rank later.
- A job that ended without a result from each task (a node lost, a rank killed) is seen to end
  ({{ cookiecutter.package_name }}/launch/slurm_jobs.py). submitit learns that from `sacct`; on a
  cluster without accounting it would wait for the lost task's result forever.

Hydra accepts launchers only inside the `hydra_plugins` namespace package and imports this
module whenever it starts: it imports neither submitit nor the project's package at the top.
"""

import logging
from pathlib import Path

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, filter_overrides
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
from omegaconf import OmegaConf

log = logging.getLogger(__name__)
# Trainer keys that set a job's shape: the array asks SLURM for one shape for all its jobs.
SHAPE_KEYS = ("trainer.devices", "trainer.num_nodes", "trainer.accelerator")


class WatchedSlurmLauncher(SlurmLauncher):
    def launch(self, job_overrides, initial_job_idx: int) -> list[JobReturn]:
        import submitit

        from {{ cookiecutter.package_name }}.launch.slurm_jobs import results_of

        self.check_jobs(job_overrides, initial_job_idx)
        # From here as hydra-submitit-launcher's own `launch`, up to the wait for the results.
        params = dict(self.params)
        executor = submitit.AutoExecutor(
            cluster="slurm",
            folder=params.pop("submitit_folder"),
            slurm_max_num_timeout=params.pop("max_num_timeout"),
        )
        base_keys = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in base_keys else f"slurm_{k}": v for k, v in params.items()})
        log.info(f"Submitit 'slurm' sweep output dir : {self.config.hydra.sweep.dir}")
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if "mode" in self.config.hydra.sweep:
            sweep_dir.chmod(int(str(self.config.hydra.sweep.mode), 8))
        job_params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            job_params.append(
                (list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state())
            )
        jobs = executor.map_array(self, *zip(*job_params, strict=True))
        return results_of(jobs, [list(overrides) for overrides in job_overrides])

    def check_jobs(self, job_overrides, initial_job_idx: int) -> None:
        """Each job's trainer against the shape SLURM gives every job of the array."""
        from {{ cookiecutter.package_name }}.launch.slurm_shape import shape_problems

        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            job_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            problems = shape_problems(job_config.trainer, self.params)
            if problems:
                job = " ".join(filter_overrides(overrides)) or "no overrides"
                swept = [
                    k
                    for k in SHAPE_KEYS
                    if OmegaConf.select(job_config, k) != OmegaConf.select(self.config, k)
                ]
                sweep_hint = f"; a sweep over {', '.join(swept)} needs one sweep per value" if swept else ""
                # SystemExit: one line on stderr, exit status 1, before any job is submitted.
                raise SystemExit(f"Error: job #{idx} ({job}): {'; '.join(problems)}{sweep_hint}")
