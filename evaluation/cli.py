"""``flask eval ...``: run one evaluation by hand, write the offline suite, make a tiny model.

``eval run`` goes through the same command builder, runner and results parser as the scheduler, waits, and
prints one JSON object, so what an operator sees here is what the platform would record.
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

from evaluation.clusters import load_profiles
from evaluation.command import BackendPolicy, EvalSpec, build_command, count_safetensors_parameters
from evaluation.results import ResultsError, headline_scores
from evaluation.runners.base import FAILED, SUCCEEDED, RunHandle, RunStatus, collect, wait
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
def run_command(checkpoint, tasks, include_path, limit, runner_kind, cluster, clusters_file, batch_size, dtype,
                seed, num_fewshot, work_dir, metrics, lm_eval_cmd, timeout, time_limit):
    """Run one evaluation, wait for it, and print its status and headline scores as JSON."""
    metric_for = _metric_overrides(metrics)
    profile = _profile(runner_kind, cluster, clusters_file, lm_eval_cmd)
    job_dir = Path(work_dir or tempfile.mkdtemp(prefix="lagc-eval-")).resolve()
    task_list = tuple(t.strip() for t in tasks.split(",") if t.strip())
    gpu = profile.gpus_per_node > 0
    spec = EvalSpec(
        checkpoint=str(Path(checkpoint).resolve()), tasks=task_list, output_path=str(job_dir / "output"),
        include_path=str(Path(include_path).resolve()) if include_path else None,
        limit=int(limit) if limit and limit >= 1 and limit == int(limit) else limit,
        num_fewshot=num_fewshot, batch_size=batch_size, dtype=dtype or ("bfloat16" if gpu else "float32"),
        device="cuda" if gpu else "cpu", seed=seed, num_parameters=count_safetensors_parameters(checkpoint))
    policy = BackendPolicy(vllm_min_parameters=profile.vllm_min_parameters, gpus_per_node=profile.gpus_per_node)
    command = build_command(spec, policy, lm_eval=profile.lm_eval, extra_env=dict(profile.env))
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
    profile = load_profiles(clusters_file)[cluster or ("local-slurm" if runner_kind == "slurm" else "local")]
    if lm_eval_cmd:
        return replace(profile, lm_eval=tuple(shlex.split(lm_eval_cmd)))
    if runner_kind == "local" or profile.name == "local-slurm":
        return replace(profile, lm_eval=(sys.executable, "-m", "lm_eval"))
    return profile


def _report(handle: RunHandle, status: RunStatus, tasks: tuple[str, ...], metric_for: dict[str, str],
            backend: str) -> dict:
    """The JSON printed by ``eval run``: status, headline scores, and where everything is."""
    report = {"status": status.state, "reason": status.reason, "tasks": {}, "results_file": None,
              "job_id": handle.job_id, "job_dir": handle.job_dir, "node": status.node,
              "elapsed_seconds": status.elapsed_seconds, "backend": backend}
    if status.state == SUCCEEDED:
        try:
            results = collect(handle, tasks)
            report["tasks"] = headline_scores(results, tasks, metric_for)
            report["results_file"] = results.path
        except ResultsError as exc:
            report.update(status=FAILED, reason=str(exc))
    if report["status"] != SUCCEEDED and status.log_tail:
        report["log_tail"] = list(status.log_tail)
    return report


@cli.command("stage-datasets")
@click.option("--challenge", "slug", required=True, help="The challenge whose suite to stage.")
@click.option("--cache-dir", required=True, type=click.Path(file_okay=False),
              help="Shared folder the compute nodes read (the challenge's [evaluation] datasets_cache).")
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
    command = stage_command([t.lm_eval_task for t in setup.tasks], str(Path(cache_dir).resolve()),
                            setup.include_path)
    click.echo(" ".join(f"{k}={v}" for k, v in command.env.items()) + " " + shlex.join(command.argv))
    if dry_run:
        return
    code = subprocess.run(command.argv, env={**os.environ, **command.env}).returncode
    if code != 0:
        raise click.ClickException(f"staging failed (exit code {code}): is the network reachable from here?")


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
