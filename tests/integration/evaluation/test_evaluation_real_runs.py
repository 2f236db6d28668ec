"""Evaluations through the platform with real lm-eval on the tiny model (local runner and the real Slurm
cluster), real Slurm failures (a node that dies, a cancel, a run over its time limit), and a scheduler
process killed with SIGKILL in the middle of a run. PostgreSQL only: these runs cost real CPU time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.ops.instance import instance_id
from evaluation import services
from evaluation.archive import stored_items
from evaluation.environment import lock_sha256
from evaluation.models import Evaluation, EvaluationState as S, TaskResult
from evaluation.jobspec import job_name

from ._platform import accepted_submission, challenge_text, cycle_until, make_challenge, make_team

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
METRICS = {"lagc_capitals_mc": "acc", "lagc_capitals_yesno": "acc", "lagc_capitals_gen": "exact_match"}
ROOT = Path(__file__).resolve().parents[3]


def _start(db, settings, model=None, behaviour="ok", **kwargs) -> None:
    with db() as session:
        challenge = make_challenge(session, challenge_text(**kwargs))
        user, team = make_team(session, challenge, "real@example.eu")
        accepted_submission(session, settings, challenge, team, user, model=model, behaviour=behaviour)


def _final(evs):
    return evs and all(
        S(e.state) in (S.finished, S.cancelled) or (S(e.state) == S.failed and e.retry_at is None) for e in evs
    )


def _assert_same_scores_as_by_hand(app, ev, by_hand):
    assert S(ev.state) == S.finished, (ev.failure_reason, ev.log_tail)
    with Session(app.extensions["lagc_engine"]) as session:
        rows = {r.task: r for r in session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id))}
    assert set(rows) == set(METRICS)
    for task, metric in METRICS.items():
        value, stderr = by_hand.task(task).metrics()[metric]
        assert (rows[task].value, rows[task].stderr) == (value, stderr)  # to the last digit


def _assert_samples_kept(ev, settings, by_hand):
    for task, metric in METRICS.items():  # the kept, compressed samples give back every item of the scores
        assert ev.provenance["kept"]["samples"][task]["file"].endswith(".jsonl.gz")
        items = stored_items(ev, task, settings.storage_dir)
        assert items.metric == metric and items.values.size == by_hand.task(task).n_samples_effective
        assert items.values.mean() == pytest.approx(by_hand.task(task).metrics()[metric][0], abs=1e-12)


@pytest.mark.lmeval
def test_the_platform_records_exactly_the_scores_of_lm_eval_run_by_hand_locally(
    app, db, settings, tiny_model, suite, by_hand
):
    _start(
        db,
        settings,
        model=tiny_model,
        suite_dir=suite[0],
        lm_eval=("lm_eval",),
        tasks=[f"{t}:{m}" for t, m in METRICS.items()],
    )
    [ev] = cycle_until(app.extensions["lagc_engine"], settings, _final, timeout=300, pause=1)
    _assert_same_scores_as_by_hand(app, ev, by_hand)
    assert ev.provenance["lm_eval_version"] and ev.provenance["transformers_version"]
    _assert_samples_kept(ev, settings, by_hand)
    # lm-eval ran in this platform's Python, installed from uv.lock: the provenance names that lock.
    assert ev.provenance["lock_sha256"] == lock_sha256(settings.lock_file)


@pytest.mark.lmeval
@pytest.mark.slurm
def test_the_platform_records_exactly_the_scores_of_lm_eval_run_by_hand_on_slurm(
    app, db, settings, tiny_model, suite, by_hand
):
    slurm = settings.with_overrides(eval_runner="slurm")
    _start(
        db,
        slurm,
        model=tiny_model,
        suite_dir=suite[0],
        lm_eval=("lm_eval",),
        runner="slurm",
        cluster="local-slurm",
        tasks=[f"{t}:{m}" for t, m in METRICS.items()],
    )
    [ev] = cycle_until(app.extensions["lagc_engine"], slurm, _final, timeout=300, pause=1)
    _assert_same_scores_as_by_hand(app, ev, by_hand)
    assert ev.runner == "slurm" and ev.job_id.isdigit() and ev.provenance["node"]
    _assert_samples_kept(ev, slurm, by_hand)


def _slurm_settings(settings):
    return settings.with_overrides(eval_runner="slurm")


def _until_running(app, slurm):
    return cycle_until(
        app.extensions["lagc_engine"], slurm, lambda evs: evs and S(evs[0].state) == S.running, timeout=60
    )[0]


@pytest.mark.slurm
def test_a_job_whose_node_dies_is_retried_and_the_reason_kept(app, db, settings):
    slurm = _slurm_settings(settings)
    _start(db, slurm, behaviour="sleep 6", runner="slurm", cluster="local-slurm")
    ev = _until_running(app, slurm)
    node = ev.node
    try:
        subprocess.run(["scontrol", "update", f"nodename={node}", "state=down", "reason=lagc-test"], check=True)
        time.sleep(0.5)
    finally:
        _restore(node)
    [ev] = cycle_until(app.extensions["lagc_engine"], slurm, _final, timeout=120)
    assert S(ev.state) == S.finished and ev.attempt == 2
    failed = [h for h in ev.history if h["to"] == "failed"]
    assert len(failed) == 1 and "compute node failed" in failed[0]["reason"]


@pytest.mark.slurm
def test_an_organiser_cancels_a_running_slurm_job(app, db, settings):
    slurm = _slurm_settings(settings)
    _start(db, slurm, behaviour="sleep 120", runner="slurm", cluster="local-slurm")
    ev = _until_running(app, slurm)
    with Session(app.extensions["lagc_engine"]) as session:
        services.request_cancel(session, session.get(Evaluation, ev.id), actor_id=None)
        session.commit()
    [ev] = cycle_until(app.extensions["lagc_engine"], slurm, _final, timeout=60)
    assert S(ev.state) == S.cancelled
    state = subprocess.run(["scontrol", "show", "job", "-o", ev.job_id], capture_output=True, text=True).stdout
    assert "JobState=CANCELLED" in state


@pytest.mark.slurm
def test_a_slurm_job_over_the_challenge_time_limit_is_stopped_and_not_retried(app, db, settings):
    slurm = _slurm_settings(settings)
    _start(db, slurm, behaviour="sleep 120", runner="slurm", cluster="local-slurm", timeout_minutes=0.05)
    [ev] = cycle_until(app.extensions["lagc_engine"], slurm, _final, timeout=60)
    assert S(ev.state) == S.failed and "longer than its 0.05-minute limit" in ev.failure_reason and ev.attempt == 1
    assert "#SBATCH --time=2" in (Path(ev.work_dir) / "run.sh").read_text()  # Slurm's own limit as a backstop


@pytest.mark.slurm
def test_a_scheduler_killed_mid_run_and_restarted_loses_nothing_and_submits_nothing_twice(app, db, settings):
    _start(db, settings, behaviour="sleep 6", runner="slurm", cluster="local-slurm")
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "LAGC_INSTANCE_DIR": str(settings.instance_dir),
        "LAGC_EVAL_RUNNER": "slurm",
        "LAGC_ENV": "testing",
        "SECRET_KEY": settings.secret_key,
        "LAGC_SCHEDULER_INTERVAL": "1",
    }
    first = subprocess.Popen(
        [sys.executable, "-m", "evaluation.scheduler"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = app.extensions["lagc_engine"]
    try:
        ev = _wait_for(engine, lambda e: e is not None and S(e.state) == S.running, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        time.sleep(1.5)  # the lease expires after 15 s; a restarted scheduler waits for it
        second = subprocess.Popen(
            [sys.executable, "-m", "evaluation.scheduler"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            ev = _wait_for(engine, lambda e: S(e.state) == S.finished, 90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    finally:
        if first.poll() is None:
            first.kill()
    with Session(engine) as session:
        assert len(session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id)).all()) == 2
    assert sum(1 for h in ev.history if h["to"] == "dispatched") == 1 and ev.attempt == 1
    with Session(engine) as session:
        name = job_name(ev.id, 1, instance_id(session, settings))
    names = subprocess.run(
        ["squeue", "-h", "--states=all", "--name", name, "-o", "%i"], capture_output=True, text=True
    ).stdout.split()
    assert names == [ev.job_id]  # one job on the cluster


def _restore(node: str) -> None:
    """Bring the node back (ReturnToService=2 may already have: then "resume" is refused, harmlessly)."""
    deadline = time.monotonic() + 30
    while True:
        subprocess.run(["scontrol", "update", f"nodename={node}", "state=resume"], capture_output=True)
        state = subprocess.run(["sinfo", "-h", "-N", "-n", node, "-o", "%T"], capture_output=True, text=True).stdout
        if state.strip().rstrip("*") in ("idle", "mixed", "allocated", "completing"):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"node {node} did not come back: {state}")
        time.sleep(0.5)


def _wait_for(engine, condition, timeout):
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine, expire_on_commit=False) as session:
            ev = session.exec(select(Evaluation)).first()
        if condition(ev):
            return ev
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {ev and (ev.state, ev.failure_reason, ev.history)}")
        time.sleep(0.3)
