"""A backup taken while checkpoints were arriving, restored into a fresh instance (SQLite and PostgreSQL).

The backup leaves the transient uploads out (README, Backup and restore), so the restored instance holds a
finalised submission and a half-uploaded file without their bytes. The intake resets them to a state the
entrant can act on, says so in their warnings, and goes on accepting everything else; tus answers the lost
upload with 410 and then 404, never a 500; and a scheduler step that keeps failing shows in /readyz and /metrics.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from sqlmodel import select

from app import create_app
from app.checkpoints.jobs import STEPS, complete_submissions
from app.checkpoints.models import Upload
from app.db import session_scope, utcnow
from app.ops.models import SchedulerLease, SchedulerStep
from app.ops.steps import FAILING_RUNS, run_step
from tests.factories import checkpoint_files
from tests.helpers import TUS, create_database, drop_database


@pytest.fixture
def fresh(settings, tmp_path):
    """A fresh instance on the same backend (a new SQLite file or PostgreSQL database), as an app."""
    server, name = os.environ.get("TEST_POSTGRES_URL", ""), f"lagc_intake_restore_{os.getpid()}"
    url = (
        f"sqlite:///{tmp_path / 'fresh' / 'platform.db'}"
        if settings.database_url.startswith("sqlite")
        else create_database(server, name)
    )
    application = create_app(
        settings.with_overrides(
            database_url=url, instance_dir=tmp_path / "fresh", storage_dir=tmp_path / "fresh" / "storage"
        )
    )
    yield application
    application.extensions["lagc_engine"].dispose()
    if not url.startswith("sqlite"):
        drop_database(server, name)


def _cycle(app, steps=STEPS) -> None:
    """One scheduler cycle of the given steps, as the scheduler runs them (recorded in SchedulerStep)."""
    for step in steps:
        run_step(app.extensions["lagc_engine"], app.config["LAGC"], step)


def _half_upload(entrant, submission: int) -> str:
    data = checkpoint_files()["model.safetensors"]
    url = entrant.create(submission, "model.safetensors", len(data)).headers["Location"]
    assert entrant.patch(url, 0, data[:100]).status_code == 204
    return url


def _backup_during_intake(app, entrant, tmp_path) -> tuple[int, int, str]:
    finalised = entrant.start("Aurora v1")
    entrant.upload_all(finalised, checkpoint_files())
    assert entrant.finalise(finalised).status_code == 202
    receiving = entrant.start("Aurora v2")
    url = _half_upload(entrant, receiving)
    result = app.test_cli_runner().invoke(args=["ops", "backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    return finalised, receiving, url


def _restore(fresh, tmp_path) -> None:
    result = fresh.test_cli_runner().invoke(args=["ops", "restore", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output


def test_a_backup_taken_during_intake_restores_into_an_instance_that_carries_on(app, entrant, fresh, tmp_path):
    finalised, receiving, url = _backup_during_intake(app, entrant, tmp_path)
    _restore(fresh, tmp_path)
    entrant.client, entrant.app = fresh.test_client(), fresh
    path = url.split("://", 1)[-1].split("/", 1)[1]
    lost = {**entrant.headers, **TUS}
    assert entrant.client.head(f"/{path}", headers=lost).status_code == 410
    data = checkpoint_files()["model.safetensors"]
    patched = entrant.patch(f"/{path}", 100, data[100:])
    assert patched.status_code == 410 and "backup" in patched.get_json()["detail"]
    newcomer = entrant.start("Aurora v3")  # a new submission on the restored instance
    entrant.upload_all(newcomer, checkpoint_files(seed=3))
    assert entrant.finalise(newcomer).status_code == 202
    _cycle(fresh)
    assert entrant.get(newcomer)["status"] == "accepted"
    reset, half = entrant.get(finalised), entrant.get(receiving)
    assert reset["status"] == "receiving" and reset["uploads"] == []
    assert any(
        "backup" in w and "model.safetensors" in w and "finalise the submission again" in w
        for w in reset["findings"]["warnings"]
    )
    assert half["status"] == "receiving" and half["uploads"] == []
    assert any("model.safetensors" in w for w in half["findings"]["warnings"])
    assert entrant.client.head(f"/{path}", headers=lost).status_code == 404  # the upload is gone: start again
    entrant.upload_all(finalised, checkpoint_files())
    assert entrant.finalise(finalised).status_code == 202
    _cycle(fresh)
    assert entrant.get(finalised)["status"] == "accepted"
    with session_scope(fresh.extensions["lagc_engine"]) as session:
        assert all(row.failures_total == 0 for row in session.exec(select(SchedulerStep)))


def test_one_submission_the_intake_cannot_finish_never_blocks_the_next_and_shows_in_readyz_and_metrics(
    app, entrant, storage, db
):
    broken = entrant.start("broken")
    entrant.upload_all(broken, checkpoint_files())
    assert entrant.finalise(broken).status_code == 202
    sound = entrant.start("sound")
    entrant.upload_all(sound, checkpoint_files(seed=5))
    assert entrant.finalise(sound).status_code == 202
    with db() as session:  # the broken one's files vanish (no recovery step runs in this test)
        for upload in session.exec(select(Upload).where(Upload.submission_id == broken)):
            (storage / "uploads" / f"{upload.id}.part").unlink()
        shutil.rmtree(storage / "staging" / str(broken))
        session.add(
            SchedulerLease(
                name="scheduler",
                holder="test",
                acquired_at=utcnow(),
                heartbeat_at=utcnow(),
                expires_at=utcnow() + timedelta(minutes=1),
            )
        )
    _cycle(app, [complete_submissions])
    assert entrant.get(sound)["status"] == "accepted"  # the broken one, first in id order, did not block it
    assert entrant.get(broken)["status"] == "validating"
    assert entrant.client.get("/readyz").status_code == 200  # failed once: not yet "keeps failing"
    for _ in range(FAILING_RUNS - 1):
        _cycle(app, [complete_submissions])
    ready = entrant.client.get("/readyz")
    assert ready.status_code == 503
    assert "app.checkpoints.jobs.complete_submissions" in ready.get_json()["checks"]["scheduler_steps"]
    assert "FileNotFoundError" in ready.get_json()["checks"]["scheduler_steps"]
    organiser_metrics = _metrics(app)
    name = 'step="app.checkpoints.jobs.complete_submissions"'
    assert f"lagc_scheduler_step_failures_total{{{name}}} {float(FAILING_RUNS)}" in organiser_metrics
    assert f"lagc_scheduler_step_item_failures_total{{{name}}} {float(FAILING_RUNS)}" in organiser_metrics
    assert f"lagc_scheduler_step_consecutive_failures{{{name}}} {float(FAILING_RUNS)}" in organiser_metrics
    assert f"lagc_scheduler_step_last_success_timestamp_seconds{{{name}}}" not in organiser_metrics
    _cycle(app)  # with the recovery step, the broken one is reset and the step succeeds again
    assert entrant.get(broken)["status"] == "receiving"
    assert entrant.client.get("/readyz").status_code == 200
    assert f"lagc_scheduler_step_last_success_timestamp_seconds{{{name}}}" in _metrics(app)


def _metrics(app) -> str:
    scraped = create_app(app.config["LAGC"].with_overrides(metrics_token="scrape-token"))
    response = scraped.test_client().get("/metrics", headers={"Authorization": "Bearer scrape-token"})
    scraped.extensions["lagc_engine"].dispose()
    assert response.status_code == 200
    return response.get_data(as_text=True)
