"""Reading a finished job's results into the database: per-task scores, provenance and the GPU-hour charge.

The raw ``results_*.json`` files and the per-item ``samples_*.jsonl`` files lm-eval wrote in the job folder
are kept under the platform's storage (``evaluation.archive``: results unchanged, samples gzip-compressed),
with their sha256 in the provenance; the rows hold the counted metric of each task. Nothing here tells the
leaderboard: its snapshots carry a watermark of the results they were computed from, so its scheduler step,
which runs after this feature's in the same cycle, notices the new result and ranks it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from sqlmodel import Session, delete

from app.settings import Settings
from evaluation.archive import keep
from evaluation.clusters import ClusterProfile
from evaluation.environment import environment_lock_sha256
from evaluation.models import Evaluation, TaskResult
from evaluation.jobspec import output_dirs, planned_nodes, runs_platform_python
from evaluation.results import EvalResults, ResultsError, find_results_file, headline_scores, load_results
from evaluation.runners.base import CANCELLED, FAILED, SUCCEEDED, RunStatus
from evaluation.services import cancelled, charge, fail, finish

log = logging.getLogger("lagc.evaluation")


def read_results(ev: Evaluation, job_dir: Path | None = None) -> list[EvalResults]:
    """Every few-shot group's results file under the job folder (default: the evaluation's own); ResultsError if
    one is missing, corrupt or lacks a task."""
    root = Path(job_dir or ev.work_dir)
    return [load_results(find_results_file(out), tasks) for out, tasks in output_dirs(ev.request, root)]


def task_rows(ev: Evaluation, results: list[EvalResults]) -> list[TaskResult]:
    """One row per suite task with the metric the challenge counts (named by the suite, not by lm-eval)."""
    rows = []
    for spec in ev.request["tasks"]:
        lm_task = spec["lm_eval_task"]
        source = next((r for r in results if lm_task in r.tasks), None)
        if source is None:
            raise ResultsError(f"task {lm_task!r} is missing from the results")
        score = headline_scores(source, [lm_task], {lm_task: spec["metric"]})[lm_task]
        task = source.task(lm_task)
        rows.append(
            TaskResult(
                evaluation_id=ev.id,
                task=spec["name"],
                metric=spec["metric"],
                value=score["value"],
                stderr=score["stderr"],
                n_samples=task.n_samples_effective,
                task_version=None if task.version is None else str(task.version)[:40],
                task_hash=task.task_hash,
                num_fewshot=task.n_shot if task.n_shot is not None else spec["num_fewshot"],
            )
        )
    return rows


def provenance(
    ev: Evaluation,
    results: list[EvalResults],
    status: RunStatus,
    gpu_hours: float,
    profile: ClusterProfile,
    kept: dict[str, Any],
    lock_sha256: str | None = None,
) -> dict[str, Any]:
    """What a judge needs to trust the numbers, taken from lm-eval's own record and the cluster's; ``kept``
    lists the results and samples files kept in the storage, with the sha256 of their uncompressed bytes;
    ``lock_sha256`` names the lock of the environment lm-eval ran in (None where it is not known)."""
    first = results[0]
    tasks = {name: t for r in results for name, t in r.tasks.items()}
    return {
        "lm_eval_version": first.lm_eval_version,
        "transformers_version": first.transformers_version,
        "lock_sha256": lock_sha256,
        "task_versions": {n: t.version for n, t in tasks.items()},
        "task_hashes": {n: t.task_hash for n, t in tasks.items()},
        "n_shot": {n: t.n_shot for n, t in tasks.items()},
        "model_sha256": ev.request.get("model_sha256"),
        "model_files": ev.request.get("model_files"),
        "model_num_parameters": first.config.model_num_parameters,
        "dtype": first.config.dtype or ev.request.get("dtype"),
        "batch_size": first.config.batch_size,
        "seeds": dict(first.config.seeds),
        "backend": first.config.model,
        "device": first.config.device,
        "limit": first.config.limit,
        "runner": ev.runner,
        "cluster": ev.cluster,
        "job_id": ev.job_id,
        "node": status.node or ev.node,
        "started_at": status.started_at,
        "ended_at": status.ended_at,
        "elapsed_seconds": status.elapsed_seconds,
        "lm_eval_seconds": sum(r.total_evaluation_time_seconds or 0.0 for r in results),
        "gpus": profile.gpus_per_node * planned_nodes(ev.request),
        "nodes": planned_nodes(ev.request),
        "layout": ev.request.get("plan"),
        "gpu_hours": gpu_hours,
        "attempt": ev.attempt,
        "kept": kept,
    }


def attempt_gpu_hours(elapsed_seconds: float | None, profile: ClusterProfile, request: Mapping[str, Any]) -> float:
    """This attempt's GPU-hours in the cluster's unit: every device of every node the job held (a CPU run
    costs none)."""
    return profile.job_gpu_hours(max(0.0, elapsed_seconds or 0.0), planned_nodes(request))


def keep_files(ev: Evaluation, storage_dir: Path, job_dir: Path | None = None) -> dict[str, Any]:
    """Keep the job's results and samples in the storage; a filesystem error is a ResultsError (retried)."""
    root = Path(job_dir or ev.work_dir)
    try:
        return keep([out for out, _ in output_dirs(ev.request, root)], storage_dir, ev.id)
    except OSError as exc:
        raise ResultsError(f"the results could not be kept in the storage ({exc})") from None


def run_lock_sha256(profile: ClusterProfile, settings: Settings) -> str | None:
    """The lock hash of the environment lm-eval ran in: this platform's own where it ran this Python (None if
    the installed packages drifted from uv.lock); unknown (None) where the site provides the environment."""
    return environment_lock_sha256(settings.lock_file) if runs_platform_python(profile) else None


def ingest(
    session: Session,
    ev: Evaluation,
    status: RunStatus,
    profile: ClusterProfile,
    now: datetime,
    settings: Settings,
    job_dir: Path | None = None,
    site: Mapping[str, Any] | None = None,
) -> None:
    """Record a succeeded attempt: files kept, scores, provenance, charge, finished; ResultsError leaves the
    row untouched. A site's run is read from the folder its uploads were stored in (``job_dir``), and what the
    site reported of it (job, nodes, GPUs, software) is kept in the provenance under ``site``."""
    results = read_results(ev, job_dir)
    rows = task_rows(ev, results)
    kept = keep_files(ev, settings.storage_dir, job_dir)
    hours = attempt_gpu_hours(status.elapsed_seconds, profile, ev.request)
    session.exec(delete(TaskResult).where(TaskResult.evaluation_id == ev.id))  # a re-run replaces, never adds
    session.add_all(rows)
    # A site's run: the lock hash its agent reported (set where lm-eval ran in the agent's own environment).
    lock = site.get("lock_sha256") if site is not None else run_lock_sha256(profile, settings)
    ev.provenance = provenance(ev, results, status, hours, profile, kept, lock)
    if site is not None:
        ev.provenance = {**ev.provenance, "site": dict(site)}
    ev.results_path = str(Path(settings.storage_dir) / kept["results"][0]["file"])
    ev.elapsed_seconds = status.elapsed_seconds
    ev.node = status.node or ev.node
    charge(session, ev, hours, now)
    finish(session, ev, now)


def settle(
    session: Session,
    ev: Evaluation,
    status: RunStatus,
    profile: ClusterProfile,
    now: datetime,
    retry_delay: float,
    settings: Settings,
    job_dir: Path | None = None,
    site: Mapping[str, Any] | None = None,
) -> None:
    """Act on a run that ended, as the scheduler and the site API both do: a success is ingested (results that
    cannot be read make it a failure worth retrying); otherwise the attempt is charged and fails or, when an
    organiser asked, is cancelled."""
    if status.state == SUCCEEDED:  # even if a cancel came late: the results are complete
        try:
            ingest(session, ev, status, profile, now, settings, job_dir, site)
            return
        except ResultsError as exc:
            status = RunStatus(
                FAILED,
                f"the results could not be read: {exc}",
                status.exit_code,
                status.log_tail,
                status.node,
                status.started_at,
                status.ended_at,
                status.elapsed_seconds,
                retryable=True,
            )
    charge(session, ev, attempt_gpu_hours(status.elapsed_seconds, profile, ev.request), now)
    ev.elapsed_seconds, ev.node = status.elapsed_seconds, status.node or ev.node
    if status.state == CANCELLED and ev.cancel_requested:
        cancelled(session, ev, now)
    else:
        fail(
            session,
            ev,
            status.reason or "the evaluation failed",
            status.log_tail,
            retryable=status.retryable,
            now=now,
            retry_delay=retry_delay,
        )
