"""What an evaluation runs: the challenge's suite pinned into a request, and the lm-eval command built from it.

The request is pinned when the evaluation is created (tasks, metrics, few-shot counts, batch size, dtype,
seed, limit), so a later change to the challenge file never changes what an evaluation in flight measures.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.checkpoints.models import Submission
from app.checkpoints.safetensors_header import DTYPE_BITS
from app.settings import Settings
from evaluation.clusters import ClusterProfile, default_profiles
from evaluation.jobspec import planned_nodes
from evaluation.layout import Layout, LayoutRefused, ModelFacts, model_facts, plan_layout
from evaluation.policy import SITE_RUNNER, EvaluationPolicy, effective_runner, model_digest


class SetupError(ValueError):
    """The challenge cannot be evaluated as configured (the message says why, for the organiser)."""


@dataclass(frozen=True)
class Setup:
    """A challenge's evaluation configuration: suite, where local task files live, policy and clusters."""

    tasks: tuple[Any, ...]  # scoring.config.TaskSpec
    include_path: str | None
    policy: EvaluationPolicy
    clusters: Mapping[str, ClusterProfile] = field(default_factory=dict)

    def profile(self, name: str) -> ClusterProfile:
        """The named cluster: the challenge's own ``[clusters.NAME]``, else the shipped profile."""
        profile = self.clusters.get(name) or default_profiles().get(name)
        if profile is None:
            raise SetupError(f"the challenge names cluster {name!r}, which has no profile")
        return profile


def setup_of(challenge: Challenge, settings: Settings) -> Setup:
    """Read the challenge's ``[benchmark]``, ``[clusters.*]`` and ``[evaluation]`` sections."""
    config = config_of(challenge)
    tasks = parse_section(config, "benchmark") or ()
    if not tasks:
        raise SetupError(f"challenge {challenge.slug} has no [[benchmark.tasks]]")
    include = (config.sections.get("benchmark") or {}).get("include_path")
    if include:  # a relative path is relative to the instance folder (the demo writes its suite there)
        include = str((Path(settings.instance_dir) / include).resolve())
    return Setup(
        tuple(tasks),
        include,
        parse_section(config, "evaluation") or EvaluationPolicy(),
        parse_section(config, "clusters") or {},
    )


def checkpoint_files(submission: Submission, folder: Path) -> list[tuple[str, str]]:
    """(name, sha256) of the checkpoint's files: from the intake's manifest, else hashed here (small folders)."""
    files = [(f["name"], f["sha256"]) for f in submission.manifest or [] if f.get("sha256")]
    if files:
        return files
    out = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out.append((path.name, digest.hexdigest()))
    return out


def read_model_config(folder: Path) -> dict[str, Any]:
    """The checkpoint's config.json ({} without one); ValueError if it is not a JSON object."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"config.json cannot be read: {exc}") from None
    if not isinstance(config, dict):
        raise ValueError("config.json must hold a JSON object")
    return config


def stored_bytes(dtypes: Mapping[str, int] | None) -> int | None:
    """The bytes the weights take as stored, from the parameter count per safetensors dtype (the intake's)."""
    if not dtypes or any(d not in DTYPE_BITS for d in dtypes):
        return None
    return sum(count * DTYPE_BITS[d] for d, count in dtypes.items()) // 8


def checkpoint_facts(folder: Path, parameters: int | None, dtypes: Mapping[str, int] | None, dtype: str) -> ModelFacts:
    """What the layout planner needs of a checkpoint evaluated in ``dtype``: the parameter count and dtypes the
    intake read from its safetensors headers, and its config.json."""
    return model_facts(parameters, dtype, read_model_config(folder), stored_bytes(dtypes))


def plan_for(facts: ModelFacts, profile: ClusterProfile) -> Layout:
    """The layout of the evaluation on the profile's cluster; SetupError with the planner's reason if none."""
    try:
        return plan_layout(facts, profile)
    except LayoutRefused as exc:
        raise SetupError(str(exc)) from None


def gpu_hours_at_most(setup: Setup, cluster: str, request: Mapping[str, Any]) -> float:
    """The most GPU-hours one attempt can cost: every device of every planned node for the job's whole time
    limit (what Slurm's "safe" allocation enforcement reserves before it starts a job)."""
    profile = setup.profile(cluster)
    minutes = min(setup.policy.slurm_minutes(), profile.wall_time_limit)
    return profile.job_gpu_hours(minutes * 60.0, planned_nodes(request))


def pinned_request(setup: Setup, settings: Settings, submission: Submission, folder: Path) -> dict:
    """The request stored in Evaluation.request: everything that decides the scores, and the planned layout.
    SetupError when no layout fits (the planner's reason), ValueError for an unreadable config.json.

    An evaluation leased to sites is planned for each of its challenge's clusters (``clusters``: the layout,
    device and dtype on each); the lease pins the one chosen (``choose_cluster``)."""
    runner, cluster = effective_runner(setup.policy, settings.eval_runner)
    files = checkpoint_files(submission, folder)
    p = setup.policy
    request = {
        "checkpoint": str(folder),
        "model_sha256": model_digest(files),
        "model_files": dict(files),
        "num_parameters": submission.parameters,
        "runner": runner,
        "cluster": cluster,
        "tasks": [
            {
                "name": t.name,
                "lm_eval_task": t.lm_eval_task,
                "num_fewshot": t.num_fewshot,
                "metric": t.metric,
                "weight": t.weight,
                "baseline": t.baseline,
                "hidden": t.hidden,
            }
            for t in setup.tasks
        ],
        "include_path": setup.include_path,
        "batch_size": p.batch_size,
        "limit": p.limit,
        "seed": p.seed,
        "timeout_minutes": p.timeout_minutes,
        "datasets_cache": p.datasets_cache,
    }
    if runner != SITE_RUNNER:
        return {**request, **cluster_part(setup, submission, folder, cluster)}
    options, refusals = {}, []
    for name in p.clusters:
        try:
            options[name] = cluster_part(setup, submission, folder, name)
        except SetupError as exc:
            refusals.append(f"{name}: {exc}")
    if not options:
        raise SetupError("no cluster of the challenge can run it (" + "; ".join(refusals) + ")")
    return {**request, "clusters": options}


def cluster_part(setup: Setup, submission: Submission, folder: Path, cluster: str) -> dict[str, Any]:
    """What depends on the cluster: the planned layout, the device and the dtype (bfloat16 on GPUs)."""
    profile = setup.profile(cluster)
    gpu = profile.gpus_per_node > 0
    dtype = setup.policy.dtype or ("bfloat16" if gpu else "float32")
    layout = plan_for(checkpoint_facts(folder, submission.parameters, submission.dtypes, dtype), profile)
    return {"dtype": dtype, "device": "cuda" if gpu else "cpu", "plan": layout.to_dict()}


def choose_cluster(request: Mapping[str, Any], cluster: str, profile: ClusterProfile) -> dict[str, Any]:
    """A site evaluation's request once leased on ``cluster``: that cluster's layout, device and dtype, and
    its profile (as the platform reads it: the challenge's ``[clusters.NAME]`` over the shipped one)."""
    return {**request, **request["clusters"][cluster], "cluster": cluster, "profile": profile.to_dict()}


def job_dir_of(settings: Settings, profile: ClusterProfile, instance: str, evaluation_id: int, attempt: int) -> Path:
    """The attempt's job folder: under the cluster's shared work folder (in the instance's own folder there,
    which other instances may share), or under the instance folder."""
    root = Path(profile.work_dir) / instance if profile.work_dir else Path(settings.instance_dir) / "evaluations"
    return (root / str(evaluation_id) / f"attempt-{attempt}").resolve()
