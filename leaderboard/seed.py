"""`flask --app app demo seed --teams N`: a synthetic challenge (slug ``synthetic``) with N teams, each with
an accepted submission and a finished evaluation on a 20-task suite (two tasks hidden), for benchmarks and
the demo. Inserted in bulk; re-running replaces the synthetic challenge's teams. Deterministic for a seed.

Some teams show the counted-submission rule (`evaluation.counting`): every 25th team's newer submission failed
its evaluation (no tokenizer), so its older scored one still counts; every 40th team submitted a newer model
that scored but chose to keep its older one; every 60th team has a newer submission still being evaluated.

Every evaluation is recorded as run by a site agent (`evaluation.policy.SITE_RUNNER`) on one of the EuroHPC
clusters, as real ones are: the scheduler never follows a site's jobs (their agents report them), so the
rows still "being evaluated" stay so, and nothing asks a cluster about jobs that never existed.

The numbers are made up but shaped like real ones: each team has a hidden skill, each task a difficulty;
the raw metric is the task's chance baseline plus skill-dependent headroom plus noise, with the binomial
standard error of a task of 500 to 2,000 questions.
"""

from __future__ import annotations

import math
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session, SQLModel

from app.accounts.models import Role
from app.accounts.services import create_user, find_user
from app.challenges.models import Challenge
from app.challenges.services import get_challenge, load_config_text
from app.checkpoints.models import Submission, SubmissionStatus
from app.teams.models import Team
from evaluation.models import CountedChoice, Evaluation, EvaluationState, TaskResult
from evaluation.policy import SITE_RUNNER
from scoring.config import DEFAULT_2024_TOML

SLUG = "synthetic"
TASKS = 20
HIDDEN = ("hidden_reasoning", "hidden_multilingual")
CLUSTERS = ("lumi-g", "leonardo-booster", "mn5-acc")  # shipped profiles (evaluation/clusters.toml)
SEED_USER = "seed@synthetic.lagc.eu"


def config_text(now: datetime) -> str:
    """The synthetic challenge: phases from 60 days ago to 30 days ahead, 18 public and 2 hidden tasks."""
    iso = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=60)
    tasks = "".join(
        f'\n[[benchmark.tasks]]\nname = "{name}"\nmetric = "acc"\nbaseline = {baseline}\n'
        + ("hidden = true\n" if name in HIDDEN else "")
        for name, baseline in task_suite()
    )
    return (
        f'[challenge]\nslug = "{SLUG}"\nname = "Synthetic Grand Challenge"\ncall_date = {start.date()}\n'
        f'description = "Synthetic teams for benchmarks and the demo."\n\n'
        f'[[phases]]\nkey = "submission"\nname = "Submission and evaluation"\nstarts = {iso(start)}\n'
        f"ends = {iso(start + timedelta(days=90))}\n\n"
        '[prize]\npool_eur = 1_000_000\nmax_winners = 4\npolicy = "fixed"\nper_winner_eur = 250_000\n'
        "gpu_hours_per_winner = 2_000_000\n" + DEFAULT_2024_TOML + tasks
    )


def task_suite() -> list[tuple[str, float]]:
    """(name, chance baseline) of the 20 tasks: multiple choice with 4 options, yes/no, and generation."""
    public = [f"task_{i:02d}" for i in range(1, TASKS - len(HIDDEN) + 1)]
    return [(name, (0.25, 0.5, 0.0)[i % 3]) for i, name in enumerate(public + list(HIDDEN))]


def seed(session: Session, teams: int, *, rng_seed: int = 0, now: datetime) -> Challenge:
    """Create or refill the synthetic challenge with ``teams`` teams (3 of them baselines); returns it."""
    challenge = get_challenge(session, SLUG) or load_config_text(session, config_text(now))
    session.flush()
    _wipe(session, challenge.id)
    user = find_user(session, SEED_USER) or create_user(
        session, SEED_USER, secrets.token_urlsafe(24), "Synthetic seeder", Role.entrant
    )
    rng = random.Random(rng_seed)
    _bulk(
        session,
        Team,
        [
            {
                "challenge_id": challenge.id,
                "name": f"Synthetic {i:05d}",
                "is_baseline": i < 3,
                "created_at": now - timedelta(days=60),
            }
            for i in range(teams)
        ],
    )
    team_ids = (
        session.execute(select(Team.id).where(Team.challenge_id == challenge.id).order_by(Team.id)).scalars().all()
    )
    _bulk(session, Submission, [_submission(challenge.id, team_id, user.id, rng, now) for team_id in team_ids])
    subs = session.execute(
        select(Submission.id, Submission.team_id, Submission.accepted_at).where(Submission.challenge_id == challenge.id)
    ).all()
    _bulk(session, Evaluation, [_evaluation(challenge.id, sub, rng) for sub in subs])
    _rule_cases(session, challenge.id, team_ids, user.id, rng, now)
    evaluations = (
        session.execute(
            select(Evaluation.id)
            .where(Evaluation.challenge_id == challenge.id, Evaluation.state == EvaluationState.finished)
            .order_by(Evaluation.id)
        )
        .scalars()
        .all()
    )
    suite = task_suite()
    difficulty = {name: rng.uniform(0.6, 1.1) for name, _ in suite}
    results = []
    for evaluation_id in evaluations:
        skill = rng.betavariate(2.5, 3)
        results.extend(
            _result(evaluation_id, name, baseline, skill * difficulty[name], rng) for name, baseline in suite
        )
    _bulk(session, TaskResult, results)
    from leaderboard.services import results_changed

    results_changed(session, challenge.id)
    return challenge


def _wipe(session: Session, challenge_id: int) -> None:
    """Remove the synthetic challenge's results, evaluations, submissions and teams."""
    evaluations = select(Evaluation.id).where(Evaluation.challenge_id == challenge_id)
    session.execute(delete(TaskResult).where(TaskResult.evaluation_id.in_(evaluations)))
    for model in (CountedChoice, Evaluation, Submission, Team):
        session.execute(delete(model).where(model.challenge_id == challenge_id))


def _submission(challenge_id: int, team_id: int, user_id: int, rng: random.Random, now: datetime) -> dict:
    accepted = now - timedelta(days=45) + timedelta(seconds=rng.uniform(0, 44 * 86400))
    return {
        "challenge_id": challenge_id,
        "team_id": team_id,
        "submitted_by_id": user_id,
        "label": f"synth-{rng.choice(('base', 'instruct', 'moe'))}-v{rng.randint(1, 9)}",
        "source": "hub",
        "status": SubmissionStatus.accepted,
        "created_at": accepted,
        "accepted_at": accepted,
        "parameters": int(10 ** rng.uniform(8.7, 11.2)),
        "licence_verdict": rng.choices(("pass", "review", "fail"), (80, 15, 5))[0],
    }


def _rule_cases(
    session: Session, challenge_id: int, team_ids: list[int], user_id: int, rng: random.Random, now: datetime
) -> None:
    """A second, newer submission for some teams (see the module docstring): failed, scored but not chosen
    (the team chose its first one), or still being evaluated."""
    cases = {
        team_id: case
        for i, team_id in enumerate(team_ids)
        if i >= 3
        for case in (("failed" if i % 25 == 7 else "chosen" if i % 40 == 11 else "running" if i % 60 == 23 else None),)
        if case
    }
    if not cases:
        return
    firsts = dict(
        session.execute(
            select(Submission.team_id, Submission.id).where(
                Submission.challenge_id == challenge_id, Submission.team_id.in_(cases)
            )
        ).all()
    )
    newer = [
        {
            **_submission(challenge_id, team_id, user_id, rng, now),
            "accepted_at": now - timedelta(hours=3),
            "created_at": now - timedelta(hours=3),
            "label": f"synth-{case}-v2",
        }
        for team_id, case in cases.items()
    ]
    _bulk(session, Submission, newer)
    seconds = session.execute(
        select(Submission.id, Submission.team_id, Submission.accepted_at).where(
            Submission.challenge_id == challenge_id,
            Submission.team_id.in_(cases),
            Submission.id.not_in(firsts.values()),
        )
    ).all()
    _bulk(session, Evaluation, [_second_evaluation(challenge_id, sub, cases[sub.team_id], rng) for sub in seconds])
    _bulk(
        session,
        CountedChoice,
        [
            {
                "challenge_id": challenge_id,
                "team_id": team_id,
                "submission_id": firsts[team_id],
                "chosen_by_id": user_id,
                "chosen_at": now - timedelta(hours=1),
            }
            for team_id, case in cases.items()
            if case == "chosen"
        ],
    )


def _second_evaluation(challenge_id: int, sub: Any, case: str, rng: random.Random) -> dict:
    """The evaluation of a newer submission: finished (``chosen``), failed or running."""
    row = {**_evaluation(challenge_id, sub, rng), "failure_reason": None, "started_at": None}  # one set of keys
    if case == "failed":
        row.update(
            state=EvaluationState.failed,
            finished_at=sub.accepted_at + timedelta(minutes=4),
            failure_reason="the checkpoint has no tokenizer files: the model cannot be evaluated",
        )
    elif case == "running":
        row.update(state=EvaluationState.running, started_at=sub.accepted_at + timedelta(minutes=5), finished_at=None)
    else:
        row.update(finished_at=sub.accepted_at + timedelta(hours=1))
    return row


def _evaluation(challenge_id: int, sub: Any, rng: random.Random) -> dict:
    finished = sub.accepted_at + timedelta(hours=rng.uniform(2, 30))
    return {
        "challenge_id": challenge_id,
        "team_id": sub.team_id,
        "submission_id": sub.id,
        "state": EvaluationState.finished,
        "runner": SITE_RUNNER,
        "cluster": rng.choice(CLUSTERS),
        "queued_at": sub.accepted_at,
        "finished_at": finished,
    }


def _result(evaluation_id: int, task: str, baseline: float, skill: float, rng: random.Random) -> dict:
    n = rng.randint(500, 2000)
    value = min(0.999, max(0.0, baseline + (1 - baseline) * skill + rng.gauss(0, 0.03)))
    return {
        "evaluation_id": evaluation_id,
        "task": task,
        "metric": "acc",
        "value": round(value, 4),
        "stderr": round(math.sqrt(max(value * (1 - value), 1e-4) / n), 5),
        "n_samples": n,
        "num_fewshot": 0,
    }


def _bulk(session: Session, model: type[SQLModel], rows: list[dict]) -> None:
    """Insert rows in one executemany, filling every field the rows leave out with the model's default."""
    if not rows:
        return
    defaults = {}
    for name, info in model.model_fields.items():
        if name == "id" or name in rows[0]:
            continue
        if info.default_factory is not None:
            defaults[name] = info.default_factory
        elif not info.is_required():
            defaults[name] = (lambda value: lambda: value)(info.default)
    for start in range(0, len(rows), 20_000):
        batch = [{**{k: make() for k, make in defaults.items()}, **row} for row in rows[start : start + 20_000]]
        session.execute(insert(model.__table__), batch)
