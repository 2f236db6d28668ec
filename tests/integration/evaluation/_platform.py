"""Helpers for the scheduler tests: a challenge whose suite and clusters the test chooses, a team, and an
accepted submission whose checkpoint folder sits where the intake pins it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from app.accounts.models import User
from app.challenges.services import load_config_text
from app.checkpoints.models import Submission
from app.checkpoints.services import storage_of
from app.db import utcnow
from app.demo import EVALUATION_SECTIONS, demo_config_text, without_sections
from evaluation import jobs
from evaluation.models import Evaluation
from tests import factories

FAKE_LM_EVAL = Path(__file__).with_name("_fake_lm_eval.py")
TASKS = ("lagc_capitals_mc", "lagc_capitals_yesno")


def challenge_text(
    suite_dir: Path | None = None,
    lm_eval: tuple[str, ...] | None = None,
    cluster: str = "local",
    runner: str = "local",
    tasks=TASKS,
    **evaluation,
) -> str:
    """The demo challenge (phases around today) with a suite of `tasks` and an [evaluation] of the test's."""
    lm_eval = lm_eval or (sys.executable, str(FAKE_LM_EVAL))
    lines = ["[benchmark]"] + ([f'include_path = "{suite_dir}"'] if suite_dir else [])
    for item in tasks:  # "task" (metric acc) or "task:metric"
        task, _, metric = item.partition(":")
        lines += [
            "[[benchmark.tasks]]",
            f'name = "{task}"',
            f'lm_eval_task = "{task}"',
            "num_fewshot = 0",
            f'metric = "{metric or "acc"}"',
            "weight = 1.0",
            "baseline = 0.25",
        ]
    profile = {"lm_eval": list(lm_eval), "cpus_per_task": 1} if cluster == "local-slurm" else {"lm_eval": list(lm_eval)}
    lines += [f"[clusters.{cluster}]"] + [f"{k} = {_toml(v)}" for k, v in profile.items()]
    settings = {
        "runner": runner,
        "cluster": cluster,
        "max_concurrent": {cluster: 1},
        "max_attempts": 2,
        "timeout_minutes": 20,
        "batch_size": 4,
        "dtype": "float32",
        "limit": 8,
        "retry_delay_seconds": 0.1,
        **evaluation,
    }
    lines += ["[evaluation]"] + [f"{k} = {_toml(v)}" for k, v in settings.items()]
    return without_sections(demo_config_text(utcnow()), EVALUATION_SECTIONS) + "\n" + "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def make_challenge(session: Session, text: str):
    return load_config_text(session, text)


def make_team(session: Session, challenge, email: str):
    user = factories.user(session, email)
    return user, factories.registered_team(session, user, challenge, f"Team {email.split('@')[0]}")


def accepted_submission(
    session: Session, settings, challenge, team, user, model: Path | None = None, behaviour: str = "ok"
) -> Submission:
    """An accepted submission; its pinned folder holds `model` (or an empty stand-in) and a `behaviour` file."""
    sub = factories.submission(
        session, challenge.id, team.id, user.id, label="test model", parameters=150_000, licence_verdict=None
    )
    folder = factories.pin(storage_of(settings).submission_dir(sub.id), model)
    (folder / "behaviour").write_text(behaviour)
    return sub


def cycle_until(engine, settings, done, timeout: float = 120, pause: float = 0.2) -> list[Evaluation]:
    """Run the evaluation steps until done(evaluations) holds; returns the evaluations (detached)."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine, expire_on_commit=False) as session:
            jobs.run_evaluations(session, settings)
            session.commit()
            evaluations = session.exec(select(Evaluation).order_by(Evaluation.id)).all()
        if done(evaluations):
            return evaluations
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {[(e.id, e.state, e.failure_reason) for e in evaluations]}")
        time.sleep(pause)


def user_id(session: Session, email: str) -> int:
    return session.exec(select(User.id).where(User.email == email)).one()
