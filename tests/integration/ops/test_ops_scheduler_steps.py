"""Scheduler steps fail alone and visibly (SQLite and PostgreSQL): an item that fails is rolled back in its own
savepoint while the others are kept (PostgreSQL aborts a whole transaction on an error otherwise), every run is
recorded, and a step that keeps failing makes /readyz say which."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.db import utcnow
from app.ops.models import SchedulerLease, SchedulerStep
from app.ops.steps import FAILING_RUNS, for_each, run_step
from app.security.models import RateCounter


def _add(session: Session, key: str) -> None:
    session.add(RateCounter(key=key, window_start=0, count=1))
    session.flush()


def test_an_item_that_breaks_a_database_rule_is_rolled_back_alone(app, db):
    def do(number: int) -> None:
        _add(session, f"item-{number}")
        if number == 2:
            _add(session, "item-1")  # a duplicate key: the database refuses it

    with Session(app.extensions["lagc_engine"]) as session:
        assert for_each(session, [1, 2, 3], do) == 1
        session.commit()
    with db() as session:
        assert sorted(session.exec(select(RateCounter.key))) == ["item-1", "item-3"]


def _sometimes_failing(fail: list[bool]):
    def checks_the_weather(session, settings) -> None:
        for_each(
            session,
            ["Oslo", "Rome"],
            lambda city: _add(session, f"{city}-{utcnow().timestamp()}") if not (fail[0] and city == "Oslo") else 1 / 0,
            key=str,
            what="forecast for",
        )

    return checks_the_weather


def test_every_run_is_recorded_and_a_step_that_keeps_failing_makes_readyz_say_which(app, db, client):
    with db() as session:
        session.add(
            SchedulerLease(
                name="scheduler",
                holder="test",
                acquired_at=utcnow(),
                heartbeat_at=utcnow(),
                expires_at=utcnow() + timedelta(minutes=1),
            )
        )
    fail = [True]
    step = _sometimes_failing(fail)
    engine, settings = app.extensions["lagc_engine"], app.config["LAGC"]
    for run in range(FAILING_RUNS):
        report = run_step(engine, settings, step)
        assert report.item_failures == 1 and "ZeroDivisionError" in report.errors[0]
        assert client.get("/readyz").status_code == (503 if run == FAILING_RUNS - 1 else 200)
    check = client.get("/readyz").get_json()["checks"]["scheduler_steps"]
    assert "test_ops_scheduler_steps.checks_the_weather" in check and "forecast for Oslo" in check
    with db() as session:
        assert len(session.exec(select(RateCounter)).all()) == FAILING_RUNS  # Rome each time, never blocked
    fail[0] = False
    run_step(engine, settings, step)
    assert client.get("/readyz").status_code == 200
    with db() as session:
        row = session.exec(select(SchedulerStep)).one()
        assert (row.runs_total, row.failures_total, row.item_failures_total, row.consecutive_failures) == (
            FAILING_RUNS + 1,
            FAILING_RUNS,
            FAILING_RUNS,
            0,
        )
        assert row.last_success_at is not None


def test_a_step_that_raises_is_recorded_and_the_cycle_goes_on(app, db):
    def breaks(session, settings) -> None:
        raise RuntimeError("the disk is full")

    report = run_step(app.extensions["lagc_engine"], app.config["LAGC"], breaks)
    assert report.item_failures == 0
    with db() as session:
        row = session.exec(select(SchedulerStep)).one()
        assert row.failures_total == 1 and "the disk is full" in row.last_error and row.last_success_at is None
