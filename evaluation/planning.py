"""What an evaluation runs: the challenge's suite pinned into a request, and the lm-eval command built from it.

The request is pinned when the evaluation is created (tasks, metrics, few-shot counts, batch size, dtype,
seed, limit), so a later change to the challenge file never changes what an evaluation in flight measures.
"""
from __future__ import annotations

import hashlib
import json
import shlex
import sys
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
from evaluation.command import BackendPolicy, Command, EvalSpec, build_command, split_by_fewshot
from evaluation.layout import Layout, LayoutRefused, ModelFacts, model_facts, plan_layout
from evaluation.policy import EvaluationPolicy, effective_runner, model_digest

LOCAL_CLUSTERS = ("local", "local-slurm")  # where lm-eval is this platform's own Python


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
    return Setup(tuple(tasks), include, parse_section(config, "evaluation") or EvaluationPolicy(),
                 parse_section(config, "clusters") or {})


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


def checkpoint_facts(folder: Path, parameters: int | None, dtypes: Mapping[str, int] | None,
                     dtype: str) -> ModelFacts:
    """What the layout planner needs of a checkpoint evaluated in ``dtype``: the parameter count and dtypes the
    intake read from its safetensors headers, and its config.json."""
    return model_facts(parameters, dtype, read_model_config(folder), stored_bytes(dtypes))


def plan_for(facts: ModelFacts, profile: ClusterProfile) -> Layout:
    """The layout of the evaluation on the profile's cluster; SetupError with the planner's reason if none."""
    try:
        return plan_layout(facts, profile)
    except LayoutRefused as exc:
        raise SetupError(str(exc)) from None


def planned_layout(request: Mapping[str, Any]) -> Layout | None:
    """The layout pinned in a request (None for requests pinned before the planner: one node, as then)."""
    plan = request.get("plan")
    return Layout.from_dict(plan) if plan else None


def planned_nodes(request: Mapping[str, Any]) -> int:
    """How many nodes the evaluation's job holds (its GPU-hours count every one)."""
    layout = planned_layout(request)
    return layout.nodes if layout else 1


def gpu_hours_at_most(setup: Setup, cluster: str, request: Mapping[str, Any]) -> float:
    """The most GPU-hours one attempt can cost: every device of every planned node for the job's whole time
    limit (what Slurm's "safe" allocation enforcement reserves before it starts a job)."""
    profile = setup.profile(cluster)
    minutes = min(setup.policy.slurm_minutes(), profile.wall_time_limit)
    return profile.job_gpu_hours(minutes * 60.0, planned_nodes(request))


def pinned_request(setup: Setup, settings: Settings, submission: Submission, folder: Path) -> dict:
    """The request stored in Evaluation.request: everything that decides the scores, and the planned layout.
    SetupError when no layout fits (the planner's reason), ValueError for an unreadable config.json."""
    runner, cluster = effective_runner(setup.policy, settings.eval_runner)
    profile = setup.profile(cluster)
    gpu = profile.gpus_per_node > 0
    files = checkpoint_files(submission, folder)
    p = setup.policy
    dtype = p.dtype or ("bfloat16" if gpu else "float32")
    layout = plan_for(checkpoint_facts(folder, submission.parameters, submission.dtypes, dtype), profile)
    return {
        "checkpoint": str(folder), "model_sha256": model_digest(files), "model_files": dict(files),
        "num_parameters": submission.parameters, "runner": runner, "cluster": cluster,
        "tasks": [{"name": t.name, "lm_eval_task": t.lm_eval_task, "num_fewshot": t.num_fewshot,
                   "metric": t.metric, "weight": t.weight, "baseline": t.baseline, "hidden": t.hidden}
                  for t in setup.tasks],
        "include_path": setup.include_path, "batch_size": p.batch_size,
        "dtype": dtype, "device": "cuda" if gpu else "cpu",
        "limit": p.limit, "seed": p.seed, "timeout_minutes": p.timeout_minutes,
        "datasets_cache": p.datasets_cache, "plan": layout.to_dict(),
    }


def runs_platform_python(profile: ClusterProfile) -> bool:
    """Whether lm-eval runs in this platform's own Python (this machine and its test cluster), rather than in
    the environment a site provides."""
    return profile.name in LOCAL_CLUSTERS and profile.lm_eval == ("lm_eval",)


def lm_eval_argv(profile: ClusterProfile) -> tuple[str, ...]:
    """The lm-eval command on the cluster; on this machine (and its test cluster) this Python's own."""
    if runs_platform_python(profile):
        return (sys.executable, "-m", "lm_eval")
    return profile.lm_eval


def fewshot_groups(request: Mapping[str, Any]) -> list[tuple[int | None, tuple[str, ...]]]:
    """lm-eval takes one few-shot count per run: the request's tasks grouped by it."""
    return split_by_fewshot({t["lm_eval_task"]: t["num_fewshot"] for t in request["tasks"]})


def output_dirs(request: Mapping[str, Any], job_dir: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """Where each few-shot group writes its results: ``output/`` for one group, ``output/shots-K/`` for more."""
    groups = fewshot_groups(request)
    if len(groups) == 1:
        return [(job_dir / "output", groups[0][1])]
    return [(job_dir / "output" / f"shots-{shots}", tasks) for shots, tasks in groups]


def build_job_command(request: Mapping[str, Any], profile: ClusterProfile, job_dir: Path) -> Command:
    """The command of one evaluation: one lm-eval run per few-shot group, chained in one job."""
    limit = request.get("limit")
    if isinstance(limit, float) and limit >= 1 and limit.is_integer():
        limit = int(limit)
    env = dict(profile.env)
    if request.get("datasets_cache"):
        env["HF_DATASETS_CACHE"] = request["datasets_cache"]
    policy = BackendPolicy(vllm_min_parameters=profile.vllm_min_parameters, gpus_per_node=profile.gpus_per_node)
    commands = []
    for (out, tasks), (shots, _) in zip(output_dirs(request, job_dir), fewshot_groups(request)):
        spec = EvalSpec(checkpoint=request["checkpoint"], tasks=tasks, output_path=str(out),
                        include_path=request.get("include_path"), limit=limit, num_fewshot=shots,
                        batch_size=request["batch_size"], dtype=request["dtype"], device=request["device"],
                        seed=request["seed"], num_parameters=request.get("num_parameters"))
        commands.append(build_command(spec, policy, lm_eval=lm_eval_argv(profile), extra_env=env,
                                      layout=planned_layout(request)))
    if len(commands) == 1:
        return commands[0]
    chained = " && ".join(shlex.join(c.argv) for c in commands)
    return Command(argv=("/bin/sh", "-c", chained), env=commands[0].env, backend=commands[0].backend,
                   layout=commands[0].layout)


def job_name(instance: str, evaluation_id: int, attempt: int) -> str:
    """The job's name on the cluster: unique per instance and attempt, so a restarted scheduler finds its own
    job again, and never one of another platform instance sharing the account (`app.ops.instance`)."""
    return f"lagc-eval-{instance}-{evaluation_id}-a{attempt}"


def legacy_job_name(evaluation_id: int, attempt: int) -> str:
    """How jobs were named before the instance was in the name; only trusted with the job's folder."""
    return f"lagc-eval-{evaluation_id}-a{attempt}"


def job_dir_of(settings: Settings, profile: ClusterProfile, instance: str, evaluation_id: int, attempt: int) -> Path:
    """The attempt's job folder: under the cluster's shared work folder (in the instance's own folder there,
    which other instances may share), or under the instance folder."""
    root = Path(profile.work_dir) / instance if profile.work_dir else Path(settings.instance_dir) / "evaluations"
    return (root / str(evaluation_id) / f"attempt-{attempt}").resolve()
