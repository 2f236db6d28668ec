"""``flask scores ...``: compare two runs item by item, the statistics of ``scoring.paired`` as JSON.

``scores compare --challenge SLUG ENTRY_A ENTRY_B`` does the same for two entries' counted evaluations
(`leaderboard.services.compare_for`, shared with the compare API). ``scores paired DIR_A DIR_B`` reads two lm-eval output folders (results and samples files, the samples
compressed or not: an evaluation's folder under ``<storage>/evaluations/<id>`` is one), pairs each task's
items by ``doc_id`` and prints the comparison. With ``--challenge`` the tasks are the challenge's suite (its
task names, metrics, weights and baselines); without, every task both folders report, each with one metric.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.challenges.config import parse_section
from app.challenges.services import config_of, get_challenge
from app.db import get_session
from leaderboard.paired import CompareError
from leaderboard.services import compare_for
from evaluation.results import ResultsError
from evaluation.samples import LmEvalRun, read_run, task_items
from scoring.config import TaskSpec
from scoring.paired import NotComparable, TaskItems, challenge_scales, compare_runs, equal_scales
from scoring.paired_json import dumps, report
from scoring.significance import RESAMPLES

cli = AppGroup("scores", help="Compare runs and entries statistically, item by item.")


@cli.command("paired")
@click.argument("dir_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dir_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--tasks",
    "task_list",
    default=None,
    help="Comma-separated tasks (default: every task both have; "
    "with --challenge, every suite task both have, by the suite's names).",
)
@click.option(
    "--metric",
    default=None,
    help="The metric of every task, e.g. acc_norm or exact_match,strict-match "
    "(default: the first lm-eval reports; with --challenge, the suite's).",
)
@click.option("--challenge", "slug", default=None, help="Score the overall difference as this challenge does.")
@click.option("--seed", type=int, default=0, show_default=True, help="Mixed with both runs' ids into the seed.")
@click.option(
    "--resamples",
    type=click.IntRange(100, 1_000_000),
    default=RESAMPLES,
    show_default=True,
    help="Bootstrap and permutation resamples.",
)
def paired_command(
    dir_a: Path, dir_b: Path, task_list: str | None, metric: str | None, slug: str | None, seed: int, resamples: int
) -> None:
    """Compare the lm-eval runs in DIR_A and DIR_B item by item, and print the result as JSON."""
    wanted = [t.strip() for t in task_list.split(",") if t.strip()] if task_list else None
    try:
        run_a, run_b = read_run(dir_a), read_run(dir_b)
        suite = _suite(slug) if slug else None
        plan = _plan_suite(suite, run_a, run_b, wanted, metric) if suite else _plan(run_a, run_b, wanted, metric)
        items_a = {name: _items(run_a, name, lm_task, m, "A") for name, (lm_task, m) in plan.tasks.items()}
        items_b = {name: _items(run_b, name, lm_task, m, "B") for name, (lm_task, m) in plan.tasks.items()}
        scales = challenge_scales(suite, list(plan.tasks)) if suite else equal_scales(list(plan.tasks))
        comparison = compare_runs(
            items_a, items_b, run_a=run_a.run_id, run_b=run_b.run_id, scales=scales, seed=seed, resamples=resamples
        )
    except NotComparable as exc:
        raise click.ClickException("the runs cannot be compared item by item:\n  " + "\n  ".join(exc.reasons)) from None
    except (ResultsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    out = report(comparison)
    out["notes"] = plan.notes + out["notes"]
    if slug:
        out["challenge"] = slug
    click.echo(dumps(out))


@cli.command("compare")
@click.option("--challenge", "slug", required=True, help="The challenge's slug.")
@click.argument("entry_a")
@click.argument("entry_b")
@click.option("--seed", type=int, default=0, show_default=True, help="Mixed with both runs' ids into the seed.")
@click.option(
    "--public",
    "public_view",
    is_flag=True,
    help="Compare as the public sees the entries (as of the "
    "freeze; hidden tasks only in the overall) instead of everything so far.",
)
def compare_command(slug: str, entry_a: str, entry_b: str, seed: int, public_view: bool) -> None:
    """Compare two entries of a challenge item by item (ENTRY: a team id, or a team's exact name), from their
    counted evaluations' kept samples, and print the JSON of `scores paired` (and of the compare API)."""
    session = get_session()
    try:
        challenge = get_challenge(session, slug)
        if challenge is None:
            raise click.ClickException(f"no challenge {slug!r}")
        body = compare_for(
            session,
            challenge,
            entry_a,
            entry_b,
            current_app.config["LAGC"].storage_dir,
            everything=not public_view,
            seed=seed,
        )
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"the database cannot be read ({type(exc).__name__}); is it migrated (flask --app app db upgrade)?"
        ) from None
    except CompareError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(dumps(body))


class _Plan:
    """Which tasks to compare (output name -> lm-eval task and metric), and what the choice left out."""

    def __init__(self, tasks: dict[str, tuple[str, str | None]], notes: list[str]):
        self.tasks, self.notes = tasks, notes


def _plan(run_a: LmEvalRun, run_b: LmEvalRun, wanted: list[str] | None, metric: str | None) -> _Plan:
    """Without a challenge: the named tasks, or every top-level task both runs report."""
    if wanted:
        for name in wanted:
            for label, run in (("A", run_a), ("B", run_b)):
                if name not in run.by_task:
                    raise click.ClickException(
                        f"unknown task {name}: folder {label} ({run.folder}) has {', '.join(run.top_level_tasks)}"
                    )
        return _Plan({name: (name, metric) for name in wanted}, [])
    both = sorted(set(run_a.top_level_tasks) & set(run_b.top_level_tasks))
    if not both:
        raise click.ClickException(
            f"the folders have no task in common (A: {', '.join(run_a.top_level_tasks)}; "
            f"B: {', '.join(run_b.top_level_tasks)})"
        )
    only = sorted(set(run_a.top_level_tasks) ^ set(run_b.top_level_tasks))
    notes = [f"left out, reported by one run only: {', '.join(only)}"] if only else []
    return _Plan({name: (name, metric) for name in both}, notes)


def _plan_suite(
    suite: tuple[TaskSpec, ...], run_a: LmEvalRun, run_b: LmEvalRun, wanted: list[str] | None, metric: str | None
) -> _Plan:
    """With a challenge: its suite's tasks (by suite name) that both runs report, each with the suite's metric."""
    by_name = {spec.name: spec for spec in suite}
    if metric and any(metric != by_name[name].metric for name in (wanted or by_name) if name in by_name):
        raise click.ClickException("--challenge fixes each task's metric (the suite's); leave out --metric")
    unknown = [name for name in wanted or [] if name not in by_name]
    if unknown:
        raise click.ClickException(f"unknown task {', '.join(unknown)}: the challenge's suite has {', '.join(by_name)}")
    names = wanted or [
        spec.name for spec in suite if spec.lm_eval_task in run_a.by_task and spec.lm_eval_task in run_b.by_task
    ]
    if not names:
        raise click.ClickException(
            "neither folder pair has a task of the challenge's suite in common (the suite "
            f"runs {', '.join(s.lm_eval_task for s in suite)})"
        )
    missing = [spec.name for spec in suite if spec.name not in names]
    notes = (
        [
            f"the overall covers {len(names)} of the suite's {len(suite)} tasks (not: {', '.join(missing)}), "
            "weighted as the challenge weights an entry with these tasks"
        ]
        if missing
        else []
    )
    return _Plan({name: (by_name[name].lm_eval_task, by_name[name].metric) for name in names}, notes)


def _items(run: LmEvalRun, name: str, lm_task: str, metric: str | None, label: str) -> TaskItems:
    """A task's items from one folder, renamed to the name it is reported under."""
    if lm_task not in run.by_task:
        raise click.ClickException(
            f"task {lm_task} is not in folder {label} ({run.folder}); it has {', '.join(run.top_level_tasks)}"
        )
    items = task_items(run, lm_task, metric)
    return TaskItems(
        name, items.metric, items.doc_ids, items.values, items.task_hash, items.item_hashes, items.prompt_hashes
    )


def _suite(slug: str) -> tuple[TaskSpec, ...]:
    """The benchmark suite of a stored challenge."""
    try:
        challenge = get_challenge(get_session(), slug)
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"the challenges cannot be read from the database ({type(exc).__name__}); "
            "is it migrated (flask --app app db upgrade)?"
        ) from None
    if challenge is None:
        raise click.ClickException(f"no challenge {slug!r}")
    suite = parse_section(config_of(challenge), "benchmark")
    if not suite:
        raise click.ClickException(f"challenge {slug} has no [[benchmark.tasks]]")
    return tuple(suite)
