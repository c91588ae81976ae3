"""Waiting for a sweep's SLURM jobs, also for those that end without every task's result.

submitit's `job.results()` waits for the result file of each task of a job, and learns from
`sacct` that a job ended without one. A task whose node was lost or whose process was killed
writes none; on a cluster without accounting `sacct` says nothing, and the sweep would wait for
that file forever. Here the queue says when a job ended (`squeue --states=all` lists jobs that
ended recently too): the job's result is then rank 0's, which records how its run ended, and a
job that left no result from rank 0 fails with a line that says so and where its log is.
"""

import subprocess
import time

from hydra.core.utils import JobReturn, JobStatus

POLL_S = 2.0
# A result file can show up on a shared file system a little after its job ended (submitit
# itself allows 15 s).
RESULT_GRACE_S = 15.0
# Job states after which nothing more runs. PREEMPTED is not one: the job may be requeued.
ENDED = {
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "TIMEOUT",
}


def queue_states(job_ids: list[str]) -> dict[str, str] | None:
    """{job id: state} of the jobs the queue still holds, ended ones included; None if the
    controller could not be asked (try again later)."""
    arrays = sorted({job_id.split("_")[0] for job_id in job_ids})
    if not arrays:
        return {}
    try:
        listed = subprocess.run(
            ["squeue", "--noheader", "--array", "--states=all", "--format=%i %T", "--jobs", ",".join(arrays)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        # Every job named has been purged from the controller's memory: all ended long ago.
        return {} if "Invalid job id" in listed.stderr else None
    return dict(line.split()[:2] for line in listed.stdout.splitlines() if len(line.split()) >= 2)


def results_of(jobs: list, job_overrides: list[list[str]]) -> list[JobReturn]:
    """Each job's JobReturn, as hydra-submitit-launcher returns them, once every job ended."""
    results: dict[int, JobReturn] = {}
    ended_at: dict[int, float] = {}
    while len(results) < len(jobs):
        waiting = [index for index in range(len(jobs)) if index not in results]
        states = queue_states([jobs[index].job_id for index in waiting])
        for index in waiting:
            job = jobs[index]
            if job.done():  # every task's result, or sacct says the job ended
                results[index] = job.results()[0]
                continue
            state = None if states is None else states.get(job.job_id, "gone")
            if state is None or state not in ENDED | {"gone"}:
                ended_at.pop(index, None)  # still queued, running, or being requeued
                continue
            ended_at.setdefault(index, time.monotonic())
            rank_zero = job.task(0)
            if rank_zero.paths.result_pickle.exists():
                results[index] = rank_zero.results()[0]
            elif time.monotonic() - ended_at[index] > RESULT_GRACE_S:
                results[index] = without_result(job, job_overrides[index], state)
        if len(results) < len(jobs):
            time.sleep(POLL_S)
    return [results[index] for index in range(len(jobs))]


def without_result(job, overrides: list[str], state: str) -> JobReturn:
    error = RuntimeError(
        f"SLURM job {job.job_id} ended ({state}) with no result from rank 0 (its node lost or its "
        f"process killed): see {job.task(0).paths.stderr}"
    )
    return JobReturn(overrides=overrides, status=JobStatus.FAILED, _return_value=error)
