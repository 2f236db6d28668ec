"""The scheduler process (APScheduler): one per deployment, never inside a web worker.

It holds a lease row in the database while it runs and renews it on every cycle; a second scheduler waits,
and a crashed one loses the lease when it expires. Each cycle runs the registered steps (dispatching and
following evaluations, ...); every step is idempotent and keeps its state in the database, so killing the
process at any moment loses nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import timedelta
from typing import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db import make_engine, utcnow
from app.ops.models import SchedulerLease
from app.ops.steps import run_step
from app.settings import Settings

log = logging.getLogger("lagc.scheduler")
LEASE = "scheduler"
Step = Callable[[Session, Settings], None]


def collect_steps() -> list[Step]:
    """Every feature's `jobs.STEPS`, in feature order: callables taking (session, settings). The scheduler is
    the process's entry point, so it reaches up to the shell's list of features (and their configuration
    sections, which the steps read)."""
    from app import features

    features.sections()
    return [step for module in features.jobs() for step in module.STEPS]


def collect_wakers() -> list[Callable[[Session], float | None]]:
    """Every feature's `jobs.WAKE` (if any): given a session, how soon after the last cycle the next one is
    wanted (0: now, e.g. an evaluation was queued), or None when the regular interval will do."""
    from app import features

    return [module.WAKE for module in features.jobs() if getattr(module, "WAKE", None)]


def wanted_in(engine: Engine, wakers: list) -> float | None:
    """The soonest any feature wants a cycle (a cheap read-only query per feature), or None."""
    wants = []
    with Session(engine) as session:
        for waker in wakers:
            try:
                value = waker(session)
            except Exception:  # a broken waker must not stop the regular cycles
                log.exception("waker %s failed", getattr(waker, "__name__", waker))
                continue
            if value is not None:
                wants.append(value)
    return min(wants) if wants else None


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_or_renew(engine: Engine, holder: str, ttl: timedelta, cycle_ms: float | None = None) -> bool:
    """Take the lease if it is free, expired or already ours; True when we hold it afterwards."""
    now = utcnow()
    with Session(engine) as session:
        if session.get(SchedulerLease, LEASE) is None:
            session.add(
                SchedulerLease(name=LEASE, holder=holder, acquired_at=now, heartbeat_at=now, expires_at=now + ttl)
            )
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
        values = {"heartbeat_at": now, "expires_at": now + ttl}
        if cycle_ms is not None:
            values["last_cycle_ms"] = cycle_ms
        renewed = session.execute(
            update(SchedulerLease).where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder).values(**values)
        )
        if renewed.rowcount == 0:
            renewed = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE, SchedulerLease.expires_at < now)
                .values(holder=holder, acquired_at=now, **values)
            )
        session.commit()
        return renewed.rowcount == 1


def release(engine: Engine, holder: str) -> None:
    """Give the lease up at a clean shutdown, so a successor need not wait for it to expire."""
    with Session(engine) as session:
        session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
            .values(expires_at=utcnow())
        )
        session.commit()


def run_cycle(
    engine: Engine, settings: Settings, holder: str, ttl: timedelta, last_ms: list[float], steps: list[Step]
) -> None:
    """One cycle: hold the lease, then run every step in its own transaction (`app.ops.steps.run_step`)."""
    if not acquire_or_renew(engine, holder, ttl, last_ms[0] if last_ms else None):
        log.info("another scheduler holds the lease; waiting")
        return
    started = time.perf_counter()
    for step in steps:  # each in its own session; its failures are logged, counted and recorded, never fatal
        run_step(engine, settings, step)
    last_ms[:] = [(time.perf_counter() - started) * 1000]


def main() -> None:
    from app.ops.observability import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_format)  # JSON lines with LAGC_LOG_FORMAT=json (the production default)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per wake-up
    engine = make_engine(settings.database_url)
    interval, wake_every = settings.scheduler_interval, settings.scheduler_wake
    ttl = timedelta(seconds=max(15.0, interval * 5))
    holder, last_ms = holder_id(), []
    steps, wakers = collect_steps(), collect_wakers()
    lock, last_end = threading.Lock(), [0.0]

    def cycle(min_gap: float | None = None) -> None:
        """One cycle unless one is running or (for a wake-up) the last ended less than min_gap ago."""
        if min_gap is not None and time.monotonic() - last_end[0] < min_gap:
            return
        if not lock.acquire(blocking=False):
            return
        try:
            run_cycle(engine, settings, holder, ttl, last_ms, steps)
        finally:
            last_end[0] = time.monotonic()
            lock.release()

    def wake() -> None:
        """Between regular cycles: run one early when a feature has urgent work (a job was queued)."""
        gap = wanted_in(engine, wakers)
        if gap is not None and gap < interval:
            cycle(gap)

    def heartbeat() -> None:
        """While a cycle runs (a step may hash a 60 GB checkpoint or download from the Hub for a long
        time), keep renewing the lease so no second scheduler takes over a live one."""
        if lock.locked():
            acquire_or_renew(engine, holder, ttl)

    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        cycle, "interval", seconds=interval, id="cycle", max_instances=1, coalesce=True, next_run_time=utcnow()
    )
    scheduler.add_job(
        heartbeat, "interval", seconds=max(1.0, ttl.total_seconds() / 3), id="heartbeat", max_instances=1, coalesce=True
    )
    if wakers and wake_every > 0:
        scheduler.add_job(wake, "interval", seconds=wake_every, id="wake", max_instances=1, coalesce=True)

    def stop(_signum, _frame) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler %s started (every %.1fs, database %s)", holder, interval, engine.url.render_as_string())
    try:
        scheduler.start()
    finally:
        release(engine, holder)
        log.info("scheduler %s stopped", holder)


if __name__ == "__main__":
    main()
