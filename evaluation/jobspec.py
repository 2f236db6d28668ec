"""One evaluation's job from its pinned request: the lm-eval command (one run per few-shot group, chained in
one job), where each group writes its results, the job's name, and the layout pinned in the request.

Pure (no web, database or process code): the scheduler builds its jobs with these functions, and so does the
site agent from the request it leases, so both run exactly the same command for the same request.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any, Mapping

from evaluation.clusters import ClusterProfile
from evaluation.command import BackendPolicy, Command, EvalSpec, build_command, split_by_fewshot
from evaluation.layout import Layout

LOCAL_CLUSTERS = ("local", "local-slurm")  # where lm-eval is this Python's own (this machine, its test cluster)


def planned_layout(request: Mapping[str, Any]) -> Layout | None:
    """The layout pinned in a request (None for requests pinned before the planner: one node, as then)."""
    plan = request.get("plan")
    return Layout.from_dict(plan) if plan else None


def planned_nodes(request: Mapping[str, Any]) -> int:
    """How many nodes the evaluation's job holds (its GPU-hours count every one)."""
    layout = planned_layout(request)
    return layout.nodes if layout else 1


def runs_platform_python(profile: ClusterProfile) -> bool:
    """Whether lm-eval runs in this Python (this machine and its test cluster; for the site agent, the agent's
    own), rather than in the environment a site provides."""
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
        spec = EvalSpec(
            checkpoint=request["checkpoint"],
            tasks=tasks,
            output_path=str(out),
            include_path=request.get("include_path"),
            limit=limit,
            num_fewshot=shots,
            batch_size=request["batch_size"],
            dtype=request["dtype"],
            device=request["device"],
            seed=request["seed"],
            num_parameters=request.get("num_parameters"),
        )
        commands.append(
            build_command(spec, policy, lm_eval=lm_eval_argv(profile), extra_env=env, layout=planned_layout(request))
        )
    if len(commands) == 1:
        return commands[0]
    chained = " && ".join(shlex.join(c.argv) for c in commands)
    return Command(
        argv=("/bin/sh", "-c", chained), env=commands[0].env, backend=commands[0].backend, layout=commands[0].layout
    )


def job_name(evaluation_id: int, attempt: int, instance: str | None = None) -> str:
    """The job's name on the cluster: unique per attempt, so a restarted scheduler (or agent) finds it again, and
    with the platform instance's identifier (`app.ops.instance`), never a job of another instance sharing the
    account. A site agent names its jobs without one: its work folder is its own."""
    return f"lagc-eval-{instance}-{evaluation_id}-a{attempt}" if instance else legacy_job_name(evaluation_id, attempt)


def legacy_job_name(evaluation_id: int, attempt: int) -> str:
    """How jobs were named before the instance was in the name (and how site agents name theirs); only trusted
    together with the job's folder."""
    return f"lagc-eval-{evaluation_id}-a{attempt}"
