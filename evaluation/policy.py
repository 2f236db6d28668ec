"""The rules of running evaluations, as pure functions over plain data (no database, no clock, no processes).

``[evaluation]`` in a challenge file says where and how its evaluations run::

    [evaluation]
    runner = "slurm"                 # local | slurm (a deployment with LAGC_EVAL_RUNNER=local runs all locally)
                                     # | sites: leased to the site agents serving one of `clusters`
    cluster = "lumi-g"               # a [clusters.NAME] of the same file, or a shipped profile
    clusters = ["lumi-g", "leonardo-booster"]   # runner = "sites": the clusters its evaluations may run on
    max_concurrent = { lumi-g = 4 }  # jobs at once per cluster
    allocation_gpu_hours = { lumi-g = 500 }   # per team per cluster, in that cluster's billing unit
    max_attempts = 3                 # attempts for failures that are not the model's fault
    timeout_minutes = 240            # the platform stops a run after this long (and asks Slurm for as long)
    batch_size = 8
    dtype = "bfloat16"               # default: float32 on CPU, bfloat16 on GPUs
    limit = 16                       # documents per task: for the demo only, never for a real challenge
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

RUNNERS = ("local", "slurm", "sites")
SITE_RUNNER = "site"  # Evaluation.runner of an evaluation leased to a site (challenges with runner = "sites")
SITES_CLUSTER = "sites"  # Evaluation.cluster of such an evaluation until a site of one of its clusters leases it
_KEYS = {
    "runner",
    "cluster",
    "clusters",
    "max_concurrent",
    "allocation_gpu_hours",
    "max_attempts",
    "timeout_minutes",
    "batch_size",
    "dtype",
    "limit",
    "seed",
    "datasets_cache",
    "retry_delay_seconds",
}


@dataclass(frozen=True)
class EvaluationPolicy:
    """The parsed ``[evaluation]`` section (defaults: one local run at a time, three attempts, two hours)."""

    runner: str = "local"
    cluster: str = "local"
    clusters: tuple[str, ...] = ()
    max_concurrent: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    allocation_gpu_hours: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    max_attempts: int = 3
    timeout_minutes: float = 120.0
    batch_size: int = 8
    dtype: str | None = None
    limit: float | None = None
    seed: int = 0
    datasets_cache: str | None = None
    retry_delay_seconds: float = 10.0

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "EvaluationPolicy":
        """Build from the ``[evaluation]`` table; ValueError names every bad key."""
        problems = [f"unknown setting {key!r}" for key in sorted(set(section) - _KEYS)]
        runner = section.get("runner", "local")
        if runner not in RUNNERS:
            problems.append(f"runner must be one of {RUNNERS}, not {runner!r}")
        clusters = section.get("clusters", [])
        if not isinstance(clusters, list) or not all(isinstance(c, str) and c for c in clusters):
            problems.append('clusters must be a list of cluster names, e.g. ["lumi-g", "leonardo-booster"]')
            clusters = []
        elif runner == "sites" and not clusters:
            problems.append('runner = "sites" needs clusters = [...]: the clusters whose sites may run its evaluations')
        counts = _mapping(section, "max_concurrent", problems, whole=True)
        hours = _mapping(section, "allocation_gpu_hours", problems, whole=False)
        numbers = {
            key: section[key]
            for key in ("max_attempts", "timeout_minutes", "batch_size", "limit", "retry_delay_seconds")
            if key in section
        }
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                problems.append(f"{key} must be a positive number, not {value!r}")
        for key in ("max_attempts", "batch_size"):
            if key in numbers and not isinstance(numbers[key], int):
                problems.append(f"{key} must be a whole number")
        if problems:
            raise ValueError("; ".join(problems))
        kept = {k: section[k] for k in ("cluster", "dtype", "seed", "datasets_cache") if k in section}
        return cls(
            runner=runner,
            clusters=tuple(dict.fromkeys(clusters)),
            max_concurrent=MappingProxyType(counts),
            allocation_gpu_hours=MappingProxyType(hours),
            **numbers,
            **kept,
        )

    def concurrency(self, cluster: str) -> int:
        """How many of this challenge's evaluations may run at once on the cluster (1 when unset)."""
        return int(self.max_concurrent.get(cluster, 1))

    def allocation(self, cluster: str) -> float | None:
        """Each team's GPU-hours on the cluster; None means no limit."""
        value = self.allocation_gpu_hours.get(cluster)
        return None if value is None else float(value)

    def slurm_minutes(self) -> int:
        """Slurm's ``--time``: the platform's timeout rounded up, plus one minute to write the results."""
        return slurm_minutes(self.timeout_minutes)


def slurm_minutes(timeout_minutes: float) -> int:
    """Slurm's ``--time`` for a run the platform stops after ``timeout_minutes`` (the site agent asks the same)."""
    return int(math.ceil(timeout_minutes)) + 1


def _mapping(section: Mapping[str, Any], key: str, problems: list[str], whole: bool) -> dict:
    value = section.get(key, {})
    if not isinstance(value, Mapping):
        problems.append(f"{key} must map cluster names to numbers, e.g. {{ lumi-g = 4 }}")
        return {}
    out = {}
    for cluster, number in value.items():
        good = isinstance(number, int) if whole else isinstance(number, (int, float))
        if isinstance(number, bool) or not good or number < 0:
            problems.append(f"{key}.{cluster} must be a {'whole ' if whole else ''}number >= 0, not {number!r}")
        else:
            out[str(cluster)] = number
    return out


def effective_runner(policy: EvaluationPolicy, deployment_runner: str) -> tuple[str, str]:
    """(runner, cluster): a deployment without Slurm (``LAGC_EVAL_RUNNER=local``) runs everything here, except
    what sites run (the platform needs no Slurm of its own for them); a site's cluster is chosen at lease time."""
    if policy.runner == "sites":
        return SITE_RUNNER, SITES_CLUSTER
    if deployment_runner == "local" or policy.runner == "local":
        return "local", "local"
    return "slurm", policy.cluster


@dataclass(frozen=True)
class Candidate:
    """A queued evaluation as the dispatcher sees it, in queue order."""

    evaluation_id: int
    team_id: int
    cluster: str
    limit: int  # max_concurrent of its challenge on its cluster
    allocation: float | None  # its team's GPU-hours on the cluster (None: unlimited)
    gpu_hours_at_most: float = 0.0  # the most its job can cost: planned nodes x devices x time limit


def plan_dispatch(
    candidates: Sequence[Candidate],
    active: Mapping[str, int],
    used: Mapping[tuple[int, str], float],
    reserved: Mapping[tuple[int, str], float] | None = None,
) -> tuple[list[int], list[int]]:
    """(ids to dispatch now, ids their team's allocation can never cover), first come first served.

    A cluster takes new jobs while fewer than ``limit`` run there. A job starts only if its team's allocation
    on the cluster covers its worst case (``gpu_hours_at_most``: every node it plans for its whole time limit)
    on top of the GPU-hours charged (``used``) and those its jobs in flight may still cost (``reserved``), as
    Slurm's "safe" enforcement of GrpTRESMins does. One that could not start even with nothing in flight
    (used up, or too big for what is left) fails with that reason; otherwise it waits for the jobs in flight.
    """
    running, held = dict(active), dict(reserved or {})
    dispatch, exhausted = [], []
    for c in candidates:
        fit = allocation_fit(c, used, held)
        if fit == NEVER:
            exhausted.append(c.evaluation_id)
        elif fit == GO and running.get(c.cluster, 0) < c.limit:
            take(c, running, held)
            dispatch.append(c.evaluation_id)
    return dispatch, exhausted


GO, WAIT, NEVER = "go", "wait", "never"


def allocation_fit(c: Candidate, used: Mapping[tuple[int, str], float], held: Mapping[tuple[int, str], float]) -> str:
    """Whether the team's allocation on the candidate's cluster lets its job start: GO, WAIT (once the team's
    jobs in flight have ended and been charged) or NEVER (used up, or the job is bigger than what is left)."""
    if c.allocation is None:
        return GO
    key = (c.team_id, c.cluster)
    left = c.allocation - used.get(key, 0.0)
    if left <= 0 or c.gpu_hours_at_most > left:
        return NEVER
    return WAIT if c.gpu_hours_at_most > left - held.get(key, 0.0) else GO


def take(c: Candidate, running: dict[str, int], held: dict[tuple[int, str], float]) -> None:
    """Count a dispatched candidate: one more job on its cluster, its worst case held from its team's allocation."""
    running[c.cluster] = running.get(c.cluster, 0) + 1
    key = (c.team_id, c.cluster)
    held[key] = held.get(key, 0.0) + c.gpu_hours_at_most


def queue_positions(queued: Iterable[tuple[int, str]]) -> dict[int, int]:
    """{evaluation id: 1-based place in its cluster's queue} from (id, cluster) pairs in queue order."""
    seen: dict[str, int] = {}
    out = {}
    for evaluation_id, cluster in queued:
        seen[cluster] = seen.get(cluster, 0) + 1
        out[evaluation_id] = seen[cluster]
    return out


def hidden_tasks_revealed(phases: Sequence[tuple[str, datetime, datetime]], now: datetime) -> bool:
    """Hidden tasks stay hidden until the challenge's last phase (the award) has begun."""
    return bool(phases) and max(starts for _, starts, _ in phases) <= now


def model_digest(files: Iterable[tuple[str, str]]) -> str:
    """One sha256 for a set of files (a checkpoint folder, a task-suite bundle): over their sorted
    ``sha256  name`` lines (as ``sha256sum`` prints them)."""
    lines = "".join(f"{sha}  {name}\n" for name, sha in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
