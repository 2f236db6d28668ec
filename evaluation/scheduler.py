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
from app.settings import Settings

log = logging.getLogger("lagc.scheduler")
LEASE = "scheduler"
Step = Callable[[Session, Settings], None]


def collect_steps() -> list[Step]:
    """Every feature's `jobs.STEPS`, in feature order: callables taking (session, settings)."""
    from app.features import feature_modules

    return [step for module in feature_modules("jobs") for step in module.STEPS]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_or_renew(engine: Engine, holder: str, ttl: timedelta, cycle_ms: float | None = None) -> bool:
    """Take the lease if it is free, expired or already ours; True when we hold it afterwards."""
    now = utcnow()
    with Session(engine) as session:
        if session.get(SchedulerLease, LEASE) is None:
            session.add(SchedulerLease(name=LEASE, holder=holder, acquired_at=now, heartbeat_at=now,
                                       expires_at=now + ttl))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
        values = {"heartbeat_at": now, "expires_at": now + ttl}
        if cycle_ms is not None:
            values["last_cycle_ms"] = cycle_ms
        renewed = session.execute(update(SchedulerLease).where(
            SchedulerLease.name == LEASE, SchedulerLease.holder == holder).values(**values))
        if renewed.rowcount == 0:
            renewed = session.execute(update(SchedulerLease).where(
                SchedulerLease.name == LEASE, SchedulerLease.expires_at < now).values(
                holder=holder, acquired_at=now, **values))
        session.commit()
        return renewed.rowcount == 1


def release(engine: Engine, holder: str) -> None:
    """Give the lease up at a clean shutdown, so a successor need not wait for it to expire."""
    with Session(engine) as session:
        session.execute(update(SchedulerLease).where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
                        .values(expires_at=utcnow()))
        session.commit()


def run_cycle(engine: Engine, settings: Settings, holder: str, ttl: timedelta, last_ms: list[float],
              steps: list[Step]) -> None:
    """One cycle: hold the lease, then run every step in its own transaction."""
    if not acquire_or_renew(engine, holder, ttl, last_ms[0] if last_ms else None):
        log.info("another scheduler holds the lease; waiting")
        return
    started = time.perf_counter()
    for step in steps:
        try:
            with Session(engine, expire_on_commit=False) as session:
                step(session, settings)
                session.commit()
        except Exception:  # one failing step must not stop the others or the process
            log.exception("scheduler step %s failed", getattr(step, "__name__", step))
    last_ms[:] = [(time.perf_counter() - started) * 1000]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    interval = float(os.environ.get("LAGC_SCHEDULER_INTERVAL", "2"))
    ttl = timedelta(seconds=max(15.0, interval * 5))
    holder, last_ms = holder_id(), []
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(run_cycle, "interval", seconds=interval, args=(engine, settings, holder, ttl, last_ms, collect_steps()),
                      id="cycle", max_instances=1, coalesce=True, next_run_time=utcnow())

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
