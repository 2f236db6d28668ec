"""A lease's job at the site: its profile, its command (the scheduler's own ``evaluation.jobspec``), the runner
that submits and follows it (the scheduler's ``SlurmRunner`` over the agent's transport, or ``LocalRunner``
for a site without a scheduler), its output files and what the provenance says of the run."""

from __future__ import annotations

import hashlib
import platform as platform_info
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from evaluation.agent.protocol import local_request
from evaluation.clusters import ClusterProfile, profiles_from_toml
from evaluation.command import Command
from evaluation.jobspec import build_job_command, output_dirs, planned_nodes, runs_platform_python
from evaluation.policy import slurm_minutes
from evaluation.results import ResultsError, load_results
from evaluation.runners.base import JobPaths, RunHandle, RunStatus
from evaluation.runners.local import LocalRunner
from evaluation.runners.slurm import SlurmRunner
from evaluation.runners.transport import Transport, read_text

VERSION = "1"


def profile_of(request: Mapping[str, Any], clusters_file: Path | None) -> ClusterProfile:
    """The lease's cluster profile, with this site's own ``[clusters.NAME]`` overrides (account, modules,
    container) from ``--clusters-file``."""
    profile = ClusterProfile.from_config(request["profile"])
    if clusters_file is None:
        return profile
    return profiles_from_toml(clusters_file.read_text(encoding="utf-8"), base={profile.name: profile})[profile.name]


def runner_of(profile: ClusterProfile, transport: Transport):
    """The scheduler's runner for the profile: Slurm over the transport, or a local process."""
    if profile.scheduler == "local":
        return LocalRunner()
    return SlurmRunner(profile, transport=transport)


def job_command(
    request: Mapping[str, Any],
    profile: ClusterProfile,
    job_dir: Path,
    checkpoint: Path,
    suite: Path | None,
    datasets_cache: str | None,
) -> Command:
    """The lm-eval command of the lease, with the site's staged checkpoint and suite in place of the platform's."""
    return build_job_command(
        local_request(request, str(checkpoint), str(suite) if suite else None, datasets_cache), profile, job_dir
    )


def start(runner, command: Command, job_dir: Path, name: str, request: Mapping[str, Any]) -> RunHandle:
    """Submit the job, asking Slurm for the platform's time limit (a local run needs none)."""
    if isinstance(runner, SlurmRunner):
        return runner.start(
            command, job_dir, name=name, time_minutes=slurm_minutes(float(request.get("timeout_minutes") or 120))
        )
    return runner.start(command, job_dir, name=name)


def overtime(request: Mapping[str, Any], started: str | None, now: datetime) -> bool:
    """Whether a running job has run longer than the request's time limit (the platform's own stop)."""
    minutes = float(request.get("timeout_minutes") or 0)
    if not minutes or not started:
        return False
    try:
        began = datetime.fromisoformat(started)
    except ValueError:
        return False
    began = began if began.tzinfo else began.astimezone()  # Slurm writes the site's local time
    return (now - began).total_seconds() > minutes * 60


def outputs(request: Mapping[str, Any], job_dir: Path, local: Path) -> list[tuple[str, Path]]:
    """The job's results and samples files: (path under the job folder, file on this machine) for each,
    ``local`` being the fetched copy of the job folder (the job folder itself where the site is here)."""
    found = []
    for out, _ in output_dirs(request, job_dir):
        here = local / out.relative_to(job_dir)
        for path in sorted(here.rglob("*")) if here.is_dir() else []:
            if path.is_file() and (
                path.name.startswith("results_")
                and path.suffix == ".json"
                or path.name.startswith("samples_")
                and path.suffix == ".jsonl"
            ):
                found.append((str(path.relative_to(local)), path))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def provenance(
    request: Mapping[str, Any],
    profile: ClusterProfile,
    status: RunStatus,
    job_id: str,
    job_dir: Path,
    files: list[tuple[str, Path]],
    transport: Transport,
    agent: Mapping[str, Any],
) -> dict[str, Any]:
    """What the site records of a run: the job, its nodes and GPUs, the software, the time and its cost."""
    nodes = planned_nodes(request)
    elapsed = max(0.0, status.elapsed_seconds or 0.0)
    lm_eval = None
    for relative, path in files:
        if relative.rsplit("/", 1)[-1].startswith("results_"):
            try:
                lm_eval = load_results(path).lm_eval_version
            except ResultsError:
                pass
            break
    return {
        "job_id": job_id,
        "nodes": status.node,
        "node_count": nodes,
        "gpu_model": gpu_model(transport, job_dir),
        "lm_eval_version": lm_eval,
        "container": profile.container,
        "cluster": profile.name,
        "started_at": status.started_at,
        "ended_at": status.ended_at,
        "elapsed_seconds": status.elapsed_seconds,
        "gpu_hours": profile.job_gpu_hours(elapsed, nodes),
        "scheduler_state": status.scheduler_state,
        # the agent's lock names lm-eval's environment only where lm-eval ran in the agent's own Python
        "lock_sha256": agent.get("lock_sha256") if runs_platform_python(profile) else None,
        "agent": {k: agent.get(k) for k in ("version", "host", "transport", "python", "lock_sha256")},
    }


def gpu_model(transport: Transport, job_dir: Path) -> str | None:
    """The GPU models the job recorded (``gpus.txt``, written where nvidia-smi or rocm-smi exist)."""
    try:
        lines = [line.strip() for line in read_text(transport, JobPaths(job_dir).gpus).splitlines() if line.strip()]
    except OSError:
        return None
    models = sorted(set(lines))
    return ", ".join(f"{sum(1 for line in lines if line == m)} x {m}" for m in models)[:300] if models else None


def agent_info(host: str, hub: bool, transport: Transport, lock_sha256: str | None) -> dict[str, Any]:
    """What the agent tells the platform about itself in every heartbeat."""
    return {
        "version": f"{VERSION} (lagc-platform {_version()})",
        "host": host,
        "hub": hub,
        "lock_sha256": lock_sha256,
        "transport": getattr(transport, "kind", type(transport).__name__),
        "python": platform_info.python_version(),
    }


def _version() -> str:
    try:
        return metadata.version("lagc-platform")
    except metadata.PackageNotFoundError:
        return "source"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
