"""Shared set-up for the evaluation benchmarks: a fresh instance (SQLite unless DATABASE_URL is set) with the
demo challenge, whose [evaluation] and [clusters.*] sections the benchmark chooses, and one entrant team (its
rows built by the tests' factories, `tests/factories.py`)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from app.challenges.services import load_config_text  # noqa: E402
from app.checkpoints.models import Submission, SubmissionStatus  # noqa: E402
from app.checkpoints.services import storage_of  # noqa: E402
from app.db import make_engine, utcnow  # noqa: E402
from app.demo import EVALUATION_SECTIONS, demo_config_text, without_sections  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.settings import Settings  # noqa: E402
from evaluation.suite import write_suite  # noqa: E402
from tests import factories  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def instance(folder: Path, evaluation_sections: str, runner: str = "local"):
    """(settings, engine, challenge id, team id, user id) of a fresh instance in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        env="testing",
        instance_dir=folder,
        database_url=os.environ.get("DATABASE_URL", ""),
        secret_key="bench-" + "x" * 40,
        eval_runner=runner,
    )
    upgrade(settings.database_url)
    write_suite(folder / "eval-suite")
    engine = make_engine(settings.database_url)
    text = without_sections(demo_config_text(utcnow()), EVALUATION_SECTIONS) + evaluation_sections
    with Session(engine) as session:
        challenge = load_config_text(session, text)
        user = factories.user(session, "bench@example.eu")
        team = factories.registered_team(session, user, challenge, "Bench Team")
        session.commit()
        return settings, engine, challenge.id, team.id, user.id


def add_submission(
    engine, settings, challenge_id: int, team_id: int, user_id: int, model: Path | None, accepted: bool
) -> int:
    """A submission pinned in storage (a copy of model, or an empty folder); accepted now if asked."""
    with Session(engine) as session:
        sub = factories.submission(
            session,
            challenge_id,
            team_id,
            user_id,
            label="bench",
            parameters=150_000,
            licence_verdict=None,
            status=SubmissionStatus.accepted if accepted else SubmissionStatus.validating,
        )
        session.commit()
        folder = storage_of(settings).submission_dir(sub.id)
        if model is not None:
            shutil.copytree(model, folder)
        else:
            folder.mkdir(parents=True)
        return sub.id


def accept(engine, submission_id: int) -> None:
    with Session(engine) as session:
        sub = session.get(Submission, submission_id)
        sub.status, sub.accepted_at = SubmissionStatus.accepted, utcnow()
        session.add(sub)
        session.commit()


def scheduler_env(settings: Settings) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "LAGC_INSTANCE_DIR": str(settings.instance_dir),
        "LAGC_EVAL_RUNNER": settings.eval_runner,
        "LAGC_ENV": "testing",
        "SECRET_KEY": settings.secret_key,
        "PYTHONPATH": str(ROOT),
    }
