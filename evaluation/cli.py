"""``flask eval ...``: plan and run one evaluation by hand, write the offline suite, make a tiny model.

``eval run`` goes through the same layout planner, command builder, runner and results parser as the
scheduler, waits, and prints one JSON object, so what an operator sees here is what the platform would record.
``eval plan`` prints the layout the planner chooses and the batch script the platform would submit.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import click
from flask.cli import AppGroup

from app.checkpoints.validation import ValidationReport, validate_checkpoint
from evaluation.clusters import ClusterProfile, load_profiles
from evaluation.command import BackendPolicy, EvalSpec, build_command
from evaluation.layout import (
    GB,
    Layout,
    LayoutRefused,
    MoE,
    ModelFacts,
    canonical_dtype,
    model_facts,
    plan_layout,
)
from evaluation.jobspec import lm_eval_argv
from evaluation.planning import checkpoint_facts
from evaluation.results import ResultsError, headline_scores
from evaluation.runners.base import FAILED, SUCCEEDED, JobPaths, RunHandle, RunStatus, collect, wait
from evaluation.runners.batch_script import render_batch_script
from evaluation.runners.local import LocalRunner
from evaluation.runners.slurm import SlurmRunner

cli = AppGroup("eval", help="Run and inspect model evaluations (lm-eval).")


def _metric_overrides(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        task, sep, metric = item.partition("=")
        if not sep or not task or not metric:
            raise click.BadParameter(f"expected TASK=METRIC, got {item!r}", param_hint="--metric")
        out[task] = metric
    return out


@cli.command("run", with_appcontext=False)
@click.option("--checkpoint", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--tasks", required=True, help="Comma-separated lm-eval task names.")
@click.option("--include-path", type=click.Path(exists=True, file_okay=False), help="Folder of task YAMLs.")
@click.option("--limit", type=float, help="Documents per task (for smoke tests).")
@click.option("--runner", "runner_kind", type=click.Choice(["local", "slurm"]), default="local")
@click.option("--cluster", default=None, help="Cluster profile name (default: local-slurm for --runner slurm).")
@click.option("--clusters-file", type=click.Path(exists=True, dir_okay=False), help="TOML overriding profiles.")
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--dtype", default=None, help="Default: float32 on CPU, bfloat16 on GPU.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--num-fewshot", type=int, default=None)
@click.option("--work-dir", type=click.Path(file_okay=False), help="Job folder (default: a new temp folder).")
@click.option("--metric", "metrics", multiple=True, help="TASK=METRIC headline metric (repeatable).")
@click.option("--lm-eval", "lm_eval_cmd", default=None, help="lm-eval command (default: this Python's).")
@click.option("--timeout", type=float, default=None, help="Seconds to wait before giving up (run continues).")
@click.option("--time-limit", type=int, default=None, help="Slurm --time in minutes (default: profile's).")
def run_command(
    checkpoint,
    tasks,
    include_path,
    limit,
    runner_kind,
    cluster,
    clusters_file,
    batch_size,
    dtype,
    seed,
    num_fewshot,
    work_dir,
    metrics,
    lm_eval_cmd,
    timeout,
    time_limit,
):
    """Run one evaluation, wait for it, and print its status and headline scores as JSON."""
    metric_for = _metric_overrides(metrics)
    profile = _profile(runner_kind, cluster, clusters_file, lm_eval_cmd)
    job_dir = Path(work_dir or tempfile.mkdtemp(prefix="lagc-eval-")).resolve()
    task_list = tuple(t.strip() for t in tasks.split(",") if t.strip())
    gpu = profile.gpus_per_node > 0
    dtype = dtype or ("bfloat16" if gpu else "float32")
    report = validate_checkpoint(Path(checkpoint), hash_files=False)  # the intake's reading of the headers
    layout = _plan(_folder_facts(Path(checkpoint), report, dtype), profile)
    if layout.nodes > 1 and runner_kind != "slurm":
        raise click.ClickException(f"the model needs {layout.nodes} nodes of {profile.name}: use --runner slurm")
    spec = EvalSpec(
        checkpoint=str(Path(checkpoint).resolve()),
        tasks=task_list,
        output_path=str(job_dir / "output"),
        include_path=str(Path(include_path).resolve()) if include_path else None,
        limit=int(limit) if limit and limit >= 1 and limit == int(limit) else limit,
        num_fewshot=num_fewshot,
        batch_size=batch_size,
        dtype=dtype,
        device="cuda" if gpu else "cpu",
        seed=seed,
        num_parameters=report.parameters,
    )
    policy = BackendPolicy(vllm_min_parameters=profile.vllm_min_parameters, gpus_per_node=profile.gpus_per_node)
    command = build_command(spec, policy, lm_eval=profile.lm_eval, extra_env=dict(profile.env), layout=layout)
    if runner_kind == "slurm":
        runner = SlurmRunner(profile)
        handle = runner.start(command, job_dir, name=f"lagc-eval-{job_dir.name}", time_minutes=time_limit)
    else:
        runner = LocalRunner()
        handle = runner.start(command, job_dir)
    status = wait(runner, handle, timeout=timeout, interval=0.5)
    report = _report(handle, status, task_list, metric_for, backend=command.backend)
    click.echo(json.dumps(report, indent=2))
    if report["status"] != SUCCEEDED:
        sys.exit(1)


def _profile(runner_kind: str, cluster: str | None, clusters_file: str | None, lm_eval_cmd: str | None):
    """The cluster profile to use; lm-eval defaults to this Python's, except on a real remote cluster."""
    profile = _named_profile(cluster or ("local-slurm" if runner_kind == "slurm" else "local"), clusters_file)
    if lm_eval_cmd:
        return replace(profile, lm_eval=tuple(shlex.split(lm_eval_cmd)))
    if runner_kind == "local" or profile.name == "local-slurm":
        return replace(profile, lm_eval=(sys.executable, "-m", "lm_eval"))
    return profile


def _named_profile(name: str, clusters_file: str | None) -> ClusterProfile:
    """The shipped profile of that name, with the file's overrides; a clear message for an unknown one."""
    try:
        profiles = load_profiles(clusters_file)
    except (ValueError, OSError) as exc:  # tomllib's errors are ValueErrors
        raise click.ClickException(f"the cluster profiles cannot be read: {exc}") from None
    if name not in profiles:
        raise click.ClickException(f"no cluster profile {name!r}; known: {', '.join(sorted(profiles))}")
    return profiles[name]


def _folder_facts(folder: Path, report: ValidationReport, dtype: str) -> ModelFacts:
    """The planner's facts of a checkpoint folder: the intake's parameter count and dtypes, its config.json."""
    try:
        return checkpoint_facts(folder, report.parameters, report.dtypes, dtype)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _plan(facts: ModelFacts, profile: ClusterProfile) -> Layout:
    """The planner's layout, or its reason for refusing as the command's error."""
    try:
        return plan_layout(facts, profile)
    except LayoutRefused as exc:
        raise click.ClickException(f"no layout on {profile.name}: {exc}") from None


def _report(
    handle: RunHandle, status: RunStatus, tasks: tuple[str, ...], metric_for: dict[str, str], backend: str
) -> dict:
    """The JSON printed by ``eval run``: status, headline scores, and where everything is (the per-item samples
    lm-eval logged beside the results file: ``flask scores paired`` compares two such folders)."""
    report = {
        "status": status.state,
        "reason": status.reason,
        "tasks": {},
        "results_file": None,
        "samples_files": [],
        "job_id": handle.job_id,
        "job_dir": handle.job_dir,
        "node": status.node,
        "elapsed_seconds": status.elapsed_seconds,
        "backend": backend,
    }
    if status.state == SUCCEEDED:
        try:
            results = collect(handle, tasks)
            report["tasks"] = headline_scores(results, tasks, metric_for)
            report["results_file"] = results.path
            report["samples_files"] = sorted(str(p) for p in Path(results.path).parent.glob("samples_*.jsonl"))
        except ResultsError as exc:
            report.update(status=FAILED, reason=str(exc))
    if report["status"] != SUCCEEDED and status.log_tail:
        report["log_tail"] = list(status.log_tail)
    return report


class ParameterCount(click.ParamType):
    """A parameter count: 400000000000, 4e11, 400B, 7.5B, 350M or 1.2T."""

    name = "count"
    SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}

    def convert(self, value, param, ctx):
        text = str(value).strip().upper().replace("_", "").replace(",", "")
        scale = self.SUFFIXES.get(text[-1:], 1)
        try:
            number = float(text[:-1] if scale != 1 else text) * scale
        except ValueError:
            self.fail(f"{value!r} is not a parameter count (e.g. 400000000000, 400B or 7.5e9)", param, ctx)
        if not number >= 1 or number != number or number > 10**16:
            self.fail(f"{value!r} is not a plausible parameter count", param, ctx)
        return int(round(number))


@cli.command("plan", with_appcontext=False)
@click.option("--cluster", required=True, help="Cluster profile name (shipped, or from --clusters-file).")
@click.option(
    "--checkpoint",
    type=click.Path(exists=True, file_okay=False),
    help="A checkpoint folder: parameters and dtypes from its safetensors headers, MoE from config.json.",
)
@click.option("--parameters", type=ParameterCount(), help="The parameter count instead (e.g. 400B).")
@click.option(
    "--dtype",
    default=None,
    help="The dtype the weights are held in: bfloat16 (bf16), float16, "
    "float32, float8 (fp8), int8, int4. With --checkpoint: bfloat16 on GPUs, float32 on CPUs.",
)
@click.option("--moe-experts", type=click.IntRange(min=2), help="Experts per MoE layer (overrides config.json).")
@click.option("--moe-experts-per-token", type=click.IntRange(min=1), help="Experts each token is routed to.")
@click.option("--attention-heads", type=click.IntRange(min=1), help="Attention heads (overrides config.json).")
@click.option("--layers", type=click.IntRange(min=1), help="Hidden layers (overrides config.json).")
@click.option("--tasks", default="TASKS", show_default=True, help="Comma-separated lm-eval tasks for the script.")
@click.option("--job-dir", default="JOB_DIR", show_default=True, help="The job folder the script names.")
@click.option("--clusters-file", type=click.Path(exists=True, dir_okay=False), help="TOML overriding profiles.")
@click.option("--time-limit", type=click.IntRange(min=1), default=None, help="Slurm --time in minutes.")
def plan_command(
    cluster,
    checkpoint,
    parameters,
    dtype,
    moe_experts,
    moe_experts_per_token,
    attention_heads,
    layers,
    tasks,
    job_dir,
    clusters_file,
    time_limit,
):
    """Print the layout the planner chooses on CLUSTER (backend, nodes, parallel sizes, why) and the batch script."""
    if (checkpoint is None) == (parameters is None):
        raise click.UsageError("give either --checkpoint DIR or --parameters N (with --dtype)")
    if parameters is not None and dtype is None:
        raise click.UsageError("--parameters needs --dtype (e.g. --dtype bf16)")
    profile = _named_profile(cluster, clusters_file)
    facts, run_dtype = _plan_facts(profile, checkpoint, parameters, dtype)
    facts = replace(
        facts,
        moe=MoE(moe_experts, moe_experts_per_token) if moe_experts else facts.moe,
        attention_heads=attention_heads or facts.attention_heads,
        layers=layers or facts.layers,
    )
    layout = _plan(facts, profile)
    model = str(Path(checkpoint).resolve()) if checkpoint else "CHECKPOINT"
    paths = JobPaths(Path(job_dir).resolve() if job_dir != "JOB_DIR" else Path(job_dir))
    gpu = profile.gpus_per_node > 0
    spec = EvalSpec(
        checkpoint=model,
        tasks=tuple(t for t in tasks.split(",") if t),
        output_path=str(paths.output),
        dtype=run_dtype,
        device="cuda" if gpu else "cpu",
        num_parameters=facts.parameters,
    )
    command = build_command(spec, lm_eval=lm_eval_argv(profile), extra_env=dict(profile.env), layout=layout)
    script = render_batch_script(profile, command, paths, name="lagc-eval-plan", time_minutes=time_limit)
    click.echo(
        json.dumps(
            {**layout.to_dict(), "weights_gb": round((facts.weight_bytes or 0) / GB, 1), "script": script}, indent=2
        )
    )


def _plan_facts(
    profile: ClusterProfile, checkpoint: str | None, parameters: int | None, dtype: str | None
) -> tuple[ModelFacts, str]:
    """The facts of the checkpoint folder (validated as the intake does) or of the numbers given, and the dtype
    lm-eval is told (a quantised dtype is the checkpoint's own business: ``auto``)."""
    try:
        if parameters is not None:
            facts = model_facts(parameters, dtype)
            return facts, facts.dtype if facts.dtype in ("float32", "float16", "bfloat16") else "auto"
        dtype = canonical_dtype(dtype or ("bfloat16" if profile.gpus_per_node else "float32"))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dtype") from None
    report = validate_checkpoint(Path(checkpoint), hash_files=False)
    if not report.ok:
        raise click.ClickException("the checkpoint is not one the platform accepts: " + "; ".join(report.errors[:5]))
    return _folder_facts(Path(checkpoint), report, dtype), dtype


@cli.command("stage-datasets")
@click.option("--challenge", "slug", required=True, help="The challenge whose suite to stage.")
@click.option(
    "--cache-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Shared folder the compute nodes read (the challenge's [evaluation] datasets_cache).",
)
@click.option("--dry-run", is_flag=True, help="Print the command and its environment, run nothing.")
def stage_datasets_command(slug, cache_dir, dry_run):
    """Download the suite's datasets into CACHE_DIR (run on a login node: compute nodes have no internet)."""
    import os
    import subprocess

    from flask import current_app

    from app.challenges.services import get_challenge
    from app.db import get_session
    from evaluation.planning import SetupError, setup_of
    from evaluation.staging import stage_command

    challenge = get_challenge(get_session(), slug)
    if challenge is None:
        raise click.ClickException(f"no challenge {slug!r}")
    try:
        setup = setup_of(challenge, current_app.config["LAGC"])
    except SetupError as exc:
        raise click.ClickException(str(exc)) from None
    command = stage_command([t.lm_eval_task for t in setup.tasks], str(Path(cache_dir).resolve()), setup.include_path)
    click.echo(" ".join(f"{k}={v}" for k, v in command.env.items()) + " " + shlex.join(command.argv))
    if dry_run:
        return
    code = subprocess.run(command.argv, env={**os.environ, **command.env}).returncode
    if code != 0:
        raise click.ClickException(f"staging failed (exit code {code}): is the network reachable from here?")


@cli.command("list")
@click.option("--challenge", "slug", required=True, help="The challenge whose evaluations to list.")
def list_command(slug):
    """Every evaluation of a challenge, oldest first, as JSON: its team, submission, state, where it ran (site,
    cluster, job id) and each task's counted metric with its standard error."""
    from app.challenges.services import get_challenge
    from app.db import get_session
    from evaluation.services import listing

    session = get_session()
    challenge = get_challenge(session, slug)
    if challenge is None:
        raise click.ClickException(f"no challenge {slug!r}")
    click.echo(json.dumps(listing(session, challenge.id), indent=2))


@cli.command("suite-write", with_appcontext=False)
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=0, show_default=True)
def suite_write_command(out_dir, seed):
    """Write the offline benchmark suite (data and lm-eval YAML) to OUT_DIR; print the task names."""
    from evaluation.suite import write_suite

    click.echo(",".join(write_suite(out_dir, seed=seed)))


@cli.command("tiny-model", with_appcontext=False)
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=0, show_default=True)
def tiny_model_command(out_dir, seed):
    """Write a tiny random GPT-2 checkpoint (safetensors) to OUT_DIR."""
    from evaluation.tinymodel import make_tiny_model

    click.echo(str(make_tiny_model(out_dir, seed=seed)))


if __name__ == "__main__":  # the commands need no app: ``python -m evaluation.cli run ...`` works too
    cli()


def _organiser(session, email: str):
    """The organiser's account an action is recorded under (ClickException otherwise)."""
    from app.accounts.models import Role
    from app.accounts.services import find_user

    user = find_user(session, email)
    if user is None or Role(user.role) is not Role.organiser:
        raise click.ClickException(f"{email} is not an organiser's account.")
    return user


def _evaluation(session, evaluation_id: int):
    from evaluation.models import Evaluation

    ev = session.get(Evaluation, evaluation_id)
    if ev is None:
        raise click.ClickException(f"no evaluation {evaluation_id}")
    return ev


@cli.command("reproduce")
@click.argument("evaluation_id", type=click.IntRange(min=1))
@click.option("--organiser", "email", required=True, help="The organiser ordering it (recorded as the actor).")
@click.option("--site", default=None, help="The site to run it at (default: any site but the original's).")
def reproduce_command(evaluation_id, email, site):
    """Order a re-evaluation of a finished site evaluation at another site; prints the new evaluation as JSON.
    Every winner of a challenge evaluated at sites needs one that agrees before the award."""
    from app.db import get_session
    from evaluation.reproduction import ReproductionError, order

    session = get_session()
    actor, original = _organiser(session, email), _evaluation(session, evaluation_id)
    try:
        ev = order(session, original, actor.id, site=site)
    except ReproductionError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    session.commit()
    click.echo(json.dumps({"evaluation": ev.id, "reproduces": original.id, "placement": ev.request["placement"]}))


@cli.command("reproduction")
@click.argument("evaluation_id", type=click.IntRange(min=1))
def reproduction_command(evaluation_id):
    """An evaluation's reproduction at another site, compared task by task, as JSON."""
    from app.db import get_session
    from evaluation.reproduction import summary

    session = get_session()
    found = summary(session, _evaluation(session, evaluation_id))
    comparison = found.pop("comparison")
    found["tasks"] = [
        {
            "task": t.task,
            "original": t.original and vars(t.original),
            "reproduced": t.reproduced and vars(t.reproduced),
            "deterministic": t.deterministic,
            "tolerance": t.tolerance,
            "agrees": t.agrees,
            "why": t.why,
        }
        for t in (comparison.tasks if comparison else ())
    ]
    found["not_deterministic"] = list(comparison.not_deterministic) if comparison else []
    found["resolution"] = found["resolution"].justification if found["resolution"] else None
    found["resolutions"] = [
        {
            "reproduction_id": r.reproduction_id,
            "justification": r.justification,
            "resolved_at": r.resolved_at.isoformat(),
        }
        for r in found["resolutions"]
    ]
    click.echo(json.dumps(found, indent=2))


@cli.command("resolve-reproduction")
@click.argument("evaluation_id", type=click.IntRange(min=1))
@click.option("--organiser", "email", required=True, help="The organiser resolving it (recorded as the actor).")
@click.option("--justification", required=True, help="Why the entry may count for the award as it stands.")
def resolve_reproduction_command(evaluation_id, email, justification):
    """Accept an evaluation for the award despite its reproduction's discrepancy (or a missing reproduction)."""
    from app.db import get_session
    from evaluation.reproduction import ReproductionError, resolve

    session = get_session()
    actor, original = _organiser(session, email), _evaluation(session, evaluation_id)
    try:
        row = resolve(session, original, actor.id, justification)
    except ReproductionError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    session.commit()
    click.echo(
        json.dumps({"evaluation": original.id, "resolved_for": row.reproduction_id, "justification": row.justification})
    )
