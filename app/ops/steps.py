"""How scheduler steps fail: alone, item by item, and visibly.

- `for_each` is how a step works through its items (submissions to hash, jobs to follow, e-mails to send):
  each item in a savepoint of its own, so a failing item is rolled back alone, logged with its key and
  counted, and the items after it are still done. No step stops at its first bad row.
- `run_step` runs one step for the scheduler in its own session and records the run in `SchedulerStep`:
  a run fails when the step raised or any of its items failed. `/readyz` reports a step that failed
  `FAILING_RUNS` runs in a row (recently) as not ready, by name; `/metrics` exposes every step's runs,
  failures, item failures and last success.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Optional, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import utcnow
from app.ops.models import SchedulerStep
from app.settings import Settings

log = logging.getLogger("lagc.scheduler")
T = TypeVar("T")
FAILING_RUNS = 3  # failed runs in a row before /readyz says the step keeps failing
FAILING_RECENT = timedelta(minutes=10)  # ...as long as the last failure is this recent (a removed step ages out)


@dataclass
class StepReport:
    """One run of a step: its items that failed and the first error seen."""

    name: str
    item_failures: int = 0
    errors: list[str] = field(default_factory=list)

    def failed(self, what: str, error: BaseException) -> None:
        self.item_failures += 1
        if len(self.errors) < 3:
            self.errors.append(f"{what}: {error.__class__.__name__}: {error}"[:500])


_running: ContextVar[Optional[StepReport]] = ContextVar("lagc_step_report", default=None)


def step_name(step: Callable) -> str:
    """The name a step is known by in logs, /readyz and /metrics: its module and function."""
    return f"{getattr(step, '__module__', '?')}.{getattr(step, '__name__', repr(step))}"


def for_each(
    session: Session,
    items: Iterable[T],
    do: Callable[[T], object],
    *,
    commit: bool = False,
    savepoint: bool = True,
    key: Callable[[T], object] = lambda item: getattr(item, "id", item),
    what: str = "item",
) -> int:
    """`do(item)` for every item, each in a savepoint of its own; with `commit`, committed after each success
    (for steps whose items take long, e.g. hashing a checkpoint). An item that raises is rolled back alone,
    logged and counted against the running step; the others go on. Returns how many failed.

    Items that commit their own work (a job recorded as being submitted before the slow call to the cluster)
    cannot run inside a savepoint: with `savepoint=False` a failing one rolls back what it left uncommitted."""
    failed = 0
    for item in items:
        label = f"{what} {key(item)}"  # read before the work: a rolled-back object may be expired
        try:
            if savepoint:
                with session.begin_nested():
                    do(item)
            else:
                do(item)
        except Exception as error:  # one bad item must never block the others
            if not savepoint:
                session.rollback()
            failed += 1
            _note(label, error)
            continue
        if commit:
            try:
                session.commit()
            except Exception as error:
                session.rollback()
                failed += 1
                _note(label, error)
    return failed


def _note(label: str, error: BaseException) -> None:
    """Log a failed item and count it against the step that is running (if any)."""
    log.error("%s failed", label, exc_info=error)
    report = _running.get()
    if report is not None:
        report.failed(label, error)


def run_step(engine: Engine, settings: Settings, step: Callable[[Session, Settings], None]) -> StepReport:
    """Run one step in its own session and record how it went; never raises (the cycle goes on)."""
    report = StepReport(step_name(step))
    token = _running.set(report)
    crashed: Optional[str] = None
    try:
        with Session(engine, expire_on_commit=False) as session:
            step(session, settings)
            session.commit()
    except Exception as error:  # one failing step must not stop the others or the process
        log.exception("scheduler step %s failed", report.name)
        crashed = f"{error.__class__.__name__}: {error}"[:500]
    finally:
        _running.reset(token)
    try:
        record_run(engine, report, crashed)
    except Exception:  # the database is down: the step's own failure is logged already
        log.warning("could not record the run of step %s", report.name, exc_info=True)
    return report


def record_run(
    engine: Engine, report: StepReport, crashed: Optional[str] = None, now: Optional[datetime] = None
) -> None:
    """Add one run to the step's row (made on its first run)."""
    now = now or utcnow()
    failed = crashed is not None or report.item_failures > 0
    with Session(engine) as session:
        row = session.get(SchedulerStep, report.name) or SchedulerStep(name=report.name)
        row.runs_total = (row.runs_total or 0) + 1
        row.item_failures_total = (row.item_failures_total or 0) + report.item_failures
        row.last_run_at = now
        if failed:
            row.failures_total = (row.failures_total or 0) + 1
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.last_failure_at = now
            row.last_error = "; ".join(([crashed] if crashed else []) + report.errors)[:2000]
        else:
            row.consecutive_failures, row.last_success_at = 0, now
        session.add(row)
        session.commit()


def failing_steps(session: Session, now: Optional[datetime] = None) -> list[SchedulerStep]:
    """Steps that failed FAILING_RUNS runs in a row, the last of them within FAILING_RECENT."""
    now = now or utcnow()
    return list(
        session.exec(
            select(SchedulerStep)
            .where(
                SchedulerStep.consecutive_failures >= FAILING_RUNS,
                SchedulerStep.last_failure_at >= now - FAILING_RECENT,
            )
            .order_by(SchedulerStep.name)
        ).all()
    )


def steps(session: Session) -> list[SchedulerStep]:
    """Every step that has run, by name."""
    return list(session.exec(select(SchedulerStep).order_by(SchedulerStep.name)).all())
