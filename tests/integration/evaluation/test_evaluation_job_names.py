"""Two platform instances on one Slurm account (staging and production, two test runs): evaluation ids start at
1 in every database, so each instance's job names carry its own identifier, and a scheduler that died between
submitting a job and recording its id finds its own job by name, never the other instance's. Jobs named the
old way (before the identifier) are still found, but only in the evaluation's own folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.ops.instance import instance_id
from app.ops.models import PlatformInstance
from app.settings import Settings, SettingsError
from evaluation import jobs, services
from evaluation.models import Evaluation, EvaluationState as S
from evaluation.jobspec import job_name, legacy_job_name
from evaluation.planning import job_dir_of

from ._platform import accepted_submission, challenge_text, make_challenge, make_team


def test_the_migrations_give_each_database_its_own_identifier(tmp_path):
    from sqlalchemy import create_engine

    from app.migrate import upgrade

    identifiers = set()
    for name in ("staging", "production"):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            identifiers.add(session.get(PlatformInstance, 1).identifier)
        engine.dispose()
    assert len(identifiers) == 2 and all(len(made) == 8 for made in identifiers)


def test_the_identifier_is_made_once_when_missing_and_the_setting_overrides_it(db, settings):
    with db() as session:
        for row in session.exec(select(PlatformInstance)):
            session.delete(row)
    with db() as session:
        made = instance_id(session, settings)
    with db() as session:
        assert instance_id(session, settings) == made == session.get(PlatformInstance, 1).identifier
        assert instance_id(session, settings.with_overrides(instance_id="staging")) == "staging"
    assert job_name(1, 1, made) != job_name(1, 1, "staging") != legacy_job_name(1, 1)
    with pytest.raises(SettingsError):
        Settings.from_env({"LAGC_INSTANCE_ID": "no spaces or CAPITALS"})


# ------------------------------------------------------------------------------------- on the real cluster


def _sbatch(name: str, folder: Path) -> str:
    """A sleeping job submitted as another instance (or an older version of this one) would have."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "other.sh"
    script.write_text("#!/bin/sh\nsleep 60\n")
    out = subprocess.run(
        [
            "sbatch",
            "--parsable",
            f"--job-name={name}",
            f"--chdir={folder}",
            "--cpus-per-task=1",
            "--output=/dev/null",
            str(script),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().split(";")[0]


@pytest.fixture
def crashed(app, db, settings):
    """(slurm settings, the evaluation's id) after a crash between marking it dispatching and recording its job;
    every job a test submits is cancelled afterwards."""
    slurm = settings.with_overrides(eval_runner="slurm")
    with db() as session:
        challenge = make_challenge(session, challenge_text(runner="slurm", cluster="local-slurm"))
        user, team = make_team(session, challenge, "names@example.eu")
        accepted_submission(session, slurm, challenge, team, user, behaviour="sleep 30")
    with Session(app.extensions["lagc_engine"], expire_on_commit=False) as session:
        cycle = jobs.Cycle(session, slurm)
        jobs.enqueue(cycle)
        session.commit()
        ev = session.exec(select(Evaluation)).one()
        profile = cycle.setup(ev.challenge_id).profile(ev.cluster)
        folder = job_dir_of(slurm, profile, cycle.instance, ev.id, ev.attempt)
        services.mark_dispatching(ev, str(folder), cycle.now)
        session.commit()
        submitted: list[str] = []
        yield slurm, ev.id, folder, submitted
        found = session.get(Evaluation, ev.id)
        session.refresh(found)
        subprocess.run(["scancel", *submitted, *([found.job_id] if found.job_id else [])], capture_output=True)


def _reconcile(app, slurm) -> Evaluation:
    with Session(app.extensions["lagc_engine"], expire_on_commit=False) as session:
        jobs.dispatch(jobs.Cycle(session, slurm))
        session.commit()
        return session.exec(select(Evaluation)).one()


def _name_of(job_id: str) -> str:
    return subprocess.run(
        ["squeue", "-h", "--states=all", "-j", job_id, "-o", "%j"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.slurm
def test_a_restarted_scheduler_never_takes_another_instances_job_of_the_same_evaluation_id(app, db, crashed, tmp_path):
    slurm, evaluation_id, _, submitted = crashed
    elsewhere = tmp_path / "other-instance" / str(evaluation_id) / "attempt-1"
    submitted += [
        _sbatch(job_name(evaluation_id, 1, "otherinstance"), elsewhere),
        _sbatch(legacy_job_name(evaluation_id, 1), elsewhere),
    ]
    ev = _reconcile(app, slurm)
    assert S(ev.state) == S.dispatched and ev.job_id not in submitted
    with db() as session:
        assert _name_of(ev.job_id) == job_name(evaluation_id, 1, instance_id(session, slurm))


@pytest.mark.slurm
def test_a_job_named_the_old_way_in_the_evaluations_own_folder_is_still_found(app, crashed):
    slurm, evaluation_id, folder, submitted = crashed
    submitted.append(_sbatch(legacy_job_name(evaluation_id, 1), folder))
    ev = _reconcile(app, slurm)
    assert S(ev.state) == S.dispatched and ev.job_id == submitted[0]
