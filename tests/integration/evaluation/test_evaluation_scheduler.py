"""The evaluation state machine driven by the scheduler steps, with real local processes and a stand-in for
the lm_eval command (see _fake_lm_eval.py): queueing, dispatch limits, ingest, failures, retries, time
limits, cancel, crash recovery and phase events, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.challenges.models import Challenge
from app.db import utcnow
from evaluation import jobs, services
from evaluation.archive import evaluation_folder, stored_items, stored_run_id
from evaluation.models import Evaluation, EvaluationState as S, GpuCharge, TaskResult
from app.challenges.jobs import record_phase_events
from evaluation.jobspec import build_job_command, job_name
from evaluation.planning import setup_of
from evaluation.runners.local import LocalRunner
from evaluation.samples import SamplesError, read_run

from ._platform import TASKS, accepted_submission, challenge_text, cycle_until, make_challenge, make_team


def _engine(app):
    return app.extensions["lagc_engine"]


def _setup(db, settings, n=1, behaviour="ok", **evaluation):
    with db() as session:
        challenge = make_challenge(session, challenge_text(**evaluation))
        subs = []
        for i in range(n):
            user, team = make_team(session, challenge, f"t{i}@example.eu")
            subs.append(accepted_submission(session, settings, challenge, team, user, behaviour=behaviour).id)
        return challenge.id, subs


def _final(evs):
    return evs and all(
        S(e.state) in (S.finished, S.cancelled) or (S(e.state) == S.failed and e.retry_at is None) for e in evs
    )


def test_an_accepted_submission_is_queued_with_the_challenge_suite_pinned(app, db, settings):
    _, [sub_id] = _setup(db, settings)
    with Session(_engine(app)) as session:
        jobs.enqueue(jobs.Cycle(session, settings))
        session.commit()
        ev = session.exec(select(Evaluation)).one()
        assert ev.submission_id == sub_id and S(ev.state) == S.queued and ev.cluster == "local"
        assert [t["lm_eval_task"] for t in ev.request["tasks"]] == list(TASKS)
        assert ev.request["batch_size"] == 4 and ev.request["limit"] == 8 and len(ev.request["model_sha256"]) == 64
        jobs.enqueue(jobs.Cycle(session, settings))  # idempotent
        assert len(session.exec(select(Evaluation)).all()) == 1


def test_a_finished_run_records_each_counted_metric_provenance_and_the_gpu_charge(app, db, settings):
    _setup(db, settings)
    [ev] = cycle_until(_engine(app), settings, _final)
    assert S(ev.state) == S.finished, ev.failure_reason
    with Session(_engine(app)) as session:
        rows = {r.task: r for r in session.exec(select(TaskResult)).all()}
        charges = session.exec(select(GpuCharge)).all()
    assert rows["lagc_capitals_mc"].value == 0.25 and rows["lagc_capitals_yesno"].value == 0.375
    assert rows["lagc_capitals_mc"].stderr == 0.01 and rows["lagc_capitals_mc"].task_hash == "hash-lagc_capitals_mc"
    assert rows["lagc_capitals_mc"].n_samples == 8 and rows["lagc_capitals_mc"].num_fewshot == 0
    prov = ev.provenance
    assert prov["lm_eval_version"] == "0.0-fake" and prov["cluster"] == "local" and prov["job_id"] == ev.job_id
    assert prov["batch_size"] == "4" and prov["seeds"]["random_seed"] == 0 and prov["model_sha256"]
    assert ev.results_path == str(settings.storage_dir / prov["kept"]["results"][0]["file"])
    assert prov["lock_sha256"] is None  # a cluster's own lm-eval (here a fake) ran in an environment not known
    assert len(charges) == 1 and charges[0].gpu_hours == 0.0  # a CPU run costs no GPU-hours
    assert [h["to"] for h in ev.history] == ["queued", "dispatching", "dispatched", "running", "finished"] or [
        h["to"] for h in ev.history
    ] == ["queued", "dispatching", "dispatched", "finished"]


def test_a_finished_evaluation_keeps_its_results_and_compressed_samples_with_their_sha256(app, db, settings):
    _setup(db, settings)
    [ev] = cycle_until(_engine(app), settings, _final)
    kept = ev.provenance["kept"]
    folder = settings.storage_dir / kept["folder"]
    assert folder == evaluation_folder(settings.storage_dir, ev.id) and folder.is_dir()
    assert set(kept["samples"]) == set(TASKS)
    job_output = Path(ev.work_dir) / "output" / "fake-model"
    for task, entry in kept["samples"].items():
        stored = settings.storage_dir / entry["file"]
        original = (job_output / f"samples_{task}_2026-01-01T00-00-00.jsonl").read_bytes()
        assert stored.name.endswith(".jsonl.gz") and gzip.decompress(stored.read_bytes()) == original
        assert entry["sha256"] == hashlib.sha256(original).hexdigest() and entry["bytes"] == len(original)
        assert entry["stored_bytes"] == stored.stat().st_size and stat.S_IMODE(stored.stat().st_mode) == 0o444
    [results] = kept["results"]
    original = (job_output / "results_2026-01-01T00-00-00.json").read_bytes()
    assert (settings.storage_dir / results["file"]).read_bytes() == original  # unchanged, uncompressed
    assert results["sha256"] == hashlib.sha256(original).hexdigest()


def test_the_kept_samples_give_each_tasks_items_checked_against_their_sha256(app, db, settings):
    _setup(db, settings)
    [ev] = cycle_until(_engine(app), settings, _final)
    items = stored_items(ev, "lagc_capitals_yesno", settings.storage_dir)
    assert items.metric == "acc" and list(items.doc_ids) == list(range(8)) and items.values.mean() == 0.375
    assert stored_items(ev, "lagc_capitals_mc", settings.storage_dir, metric="exact_match").values.sum() == 4
    kept_folder = settings.storage_dir / ev.provenance["kept"]["folder"]
    assert stored_run_id(ev) == read_run(kept_folder).run_id == read_run(Path(ev.work_dir) / "output").run_id
    stored = settings.storage_dir / ev.provenance["kept"]["samples"]["lagc_capitals_yesno"]["file"]
    os.chmod(stored, 0o644)
    stored.write_bytes(gzip.compress(b'{"doc_id": 0, "filter": "none", "acc": 1.0}\n'))
    with pytest.raises(SamplesError, match="does not match the sha256"):
        stored_items(ev, "lagc_capitals_yesno", settings.storage_dir)


def test_an_evaluation_recorded_before_samples_were_kept_says_so(app, db, settings):
    _setup(db, settings)
    [ev] = cycle_until(_engine(app), settings, _final)
    ev.provenance = {k: v for k, v in ev.provenance.items() if k != "kept"}
    with pytest.raises(SamplesError, match="recorded before per-item results were kept"):
        stored_items(ev, "lagc_capitals_mc", settings.storage_dir)


def test_dispatch_keeps_to_the_cluster_concurrency_and_gives_queue_positions(app, db, settings):
    _setup(db, settings, n=3, behaviour="sleep 30")
    with Session(_engine(app), expire_on_commit=False) as session:
        jobs.run_evaluations(session, settings)
        evs = session.exec(select(Evaluation).order_by(Evaluation.id)).all()
        assert [S(e.state) for e in evs] == [S.dispatched, S.queued, S.queued]
        assert [services.queue_position(session, e) for e in evs] == [None, 1, 2]
        for ev in evs:
            services.request_cancel(session, ev, actor_id=None)
        session.commit()
    cycle_until(_engine(app), settings, lambda evs: all(S(e.state) == S.cancelled for e in evs), timeout=30)


def test_a_team_that_used_its_gpu_hour_allocation_gets_no_more_runs_on_that_cluster(app, db, settings):
    challenge_id, [sub_id] = _setup(db, settings, allocation_gpu_hours={"local": 1})
    with Session(_engine(app)) as session:
        jobs.enqueue(jobs.Cycle(session, settings))
        ev = session.exec(select(Evaluation)).one()
        session.add(
            GpuCharge(
                challenge_id=challenge_id,
                team_id=ev.team_id,
                evaluation_id=ev.id,
                attempt=0,
                cluster="local",
                gpu_hours=1.5,
            )
        )
        session.commit()
    [ev] = cycle_until(_engine(app), settings, _final)
    assert S(ev.state) == S.failed and "allocation" in ev.failure_reason and ev.job_id is None


def test_a_missing_results_file_fails_the_attempt_and_is_retried_with_the_reason_kept(app, db, settings):
    _setup(db, settings, behaviour="missing")
    [ev] = cycle_until(_engine(app), settings, _final)
    assert S(ev.state) == S.failed and ev.attempt == 2 and ev.retry_at is None
    assert "no results file" in ev.failure_reason
    reasons = [h.get("reason", "") for h in ev.history if h["to"] == "failed"]
    assert len(reasons) == 2 and all("no results file" in r for r in reasons)
    assert any(h["to"] == "queued" and h.get("reason", "").startswith("retry after:") for h in ev.history)


def test_a_corrupt_results_file_is_reported_as_such(app, db, settings):
    _setup(db, settings, behaviour="corrupt", max_attempts=1)
    [ev] = cycle_until(_engine(app), settings, _final)
    assert S(ev.state) == S.failed and "not valid JSON" in ev.failure_reason


def test_a_model_that_crashes_fails_once_with_the_last_log_lines_and_is_not_retried(app, db, settings):
    _setup(db, settings, behaviour="fail")
    [ev] = cycle_until(_engine(app), settings, _final)
    assert S(ev.state) == S.failed and ev.attempt == 1 and "exit code 3" in ev.failure_reason
    assert "something in the model went wrong" in ev.log_tail


def test_a_run_longer_than_the_challenge_time_limit_is_stopped(app, db, settings):
    _setup(db, settings, behaviour="sleep 60", timeout_minutes=0.02)
    [ev] = cycle_until(_engine(app), settings, _final, timeout=30)
    assert S(ev.state) == S.failed and "longer than its 0.02-minute limit" in ev.failure_reason and ev.attempt == 1


def test_an_organiser_cancels_a_running_evaluation_and_retries_it(app, db, settings):
    _setup(db, settings, behaviour="sleep 60")
    [ev] = cycle_until(_engine(app), settings, lambda evs: evs and S(evs[0].state) in (S.dispatched, S.running))
    with Session(_engine(app), expire_on_commit=False) as session:
        row = session.get(Evaluation, ev.id)
        services.request_cancel(session, row, actor_id=None)
        session.commit()
    [ev] = cycle_until(_engine(app), settings, _final, timeout=30)
    assert S(ev.state) == S.cancelled and ev.failure_reason == "cancelled by an organiser"
    assert LocalRunner().poll(services.handle_of(ev)).state == "cancelled"  # the process group is gone
    with Session(_engine(app), expire_on_commit=False) as session:
        row = session.get(Evaluation, ev.id)
        services.organiser_retry(session, row, actor_id=None)
        session.commit()
        assert S(row.state) == S.queued and row.attempt == 2 and row.max_attempts >= 2


def test_a_scheduler_that_died_between_marking_and_recording_a_submission_finds_the_job(app, db, settings):
    _setup(db, settings, n=2, behaviour="sleep 2")
    with Session(_engine(app), expire_on_commit=False) as session:
        jobs.enqueue(jobs.Cycle(session, settings))
        session.commit()
        started, never = session.exec(select(Evaluation).order_by(Evaluation.id)).all()
        setup = setup_of(session.get(Challenge, started.challenge_id), settings)
        for ev in (started, never):
            job_dir = settings.instance_dir / "evaluations" / str(ev.id) / "attempt-1"
            services.mark_dispatching(ev, str(job_dir), utcnow())
        session.commit()
        # The crash: the first job was started, its id never recorded; the second was never started.
        handle = LocalRunner().start(
            build_job_command(
                started.request,
                setup.profile("local"),
                settings.instance_dir / "evaluations" / str(started.id) / "attempt-1",
            ),
            started.work_dir,
            name=job_name(started.id, 1, "test"),
        )
    evs = cycle_until(_engine(app), settings, _final, timeout=60)
    assert [S(e.state) for e in evs] == [S.finished, S.finished]
    assert evs[0].job_id == handle.job_id  # found by its name and folder, not submitted twice
    assert sum(1 for h in evs[0].history if h["to"] == "dispatched") == 1


def test_phase_events_are_recorded_once_per_boundary_crossed(app, db, settings):
    _setup(db, settings)
    now = utcnow()
    with Session(_engine(app)) as session:
        first = record_phase_events(session, settings, now=now)
        session.commit()
        again = record_phase_events(session, settings, now=now)
        later = record_phase_events(session, settings, now=now + timedelta(days=31))
        session.commit()
        actions = [
            (e.subject_id, e.action)
            for e in session.exec(
                select(AuditEvent).where(AuditEvent.subject_type == "phase").order_by(AuditEvent.id)
            ).all()
        ]
    # The demo is in its submission phase (registration closed a week ago); a month on, evaluation begins.
    assert first == 3 and again == 0 and later == 2
    assert actions == [
        ("registration", "phase.opened"),
        ("registration", "phase.closed"),
        ("submission", "phase.opened"),
        ("submission", "phase.closed"),
        ("evaluation", "phase.opened"),
    ]
