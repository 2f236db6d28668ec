"""Only one scheduler runs at a time; a crashed scheduler's lease expires and another takes over."""

from __future__ import annotations

from datetime import timedelta

from app.db import make_engine
from evaluation.scheduler import acquire_or_renew, release, run_cycle

TTL = timedelta(seconds=30)


def test_a_second_scheduler_waits_while_the_first_holds_the_lease(database_url):
    engine = make_engine(database_url)
    assert acquire_or_renew(engine, "host:1", TTL)
    assert not acquire_or_renew(engine, "host:2", TTL)
    assert acquire_or_renew(engine, "host:1", TTL)  # renewing is fine
    engine.dispose()


def test_an_expired_lease_passes_to_the_next_scheduler(database_url):
    engine = make_engine(database_url)
    assert acquire_or_renew(engine, "crashed:1", timedelta(seconds=-1))  # as if it stopped renewing long ago
    assert acquire_or_renew(engine, "host:2", TTL)
    assert not acquire_or_renew(engine, "crashed:1", TTL)
    engine.dispose()


def test_a_clean_shutdown_releases_the_lease_at_once(database_url):
    engine = make_engine(database_url)
    assert acquire_or_renew(engine, "host:1", TTL)
    release(engine, "host:1")
    assert acquire_or_renew(engine, "host:2", TTL)
    engine.dispose()


def test_a_cycle_runs_its_steps_only_while_holding_the_lease(database_url, settings):
    engine = make_engine(database_url)
    ran: list[str] = []

    def step(session, _settings):
        ran.append("step")

    def broken(session, _settings):
        raise RuntimeError("one failing step does not stop the others")

    assert acquire_or_renew(engine, "other:1", TTL)
    run_cycle(engine, settings, "me:1", TTL, [], [step])
    assert ran == []
    release(engine, "other:1")
    run_cycle(engine, settings, "me:1", TTL, [], [broken, step])
    assert ran == ["step"]
    engine.dispose()
