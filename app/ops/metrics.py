"""`/metrics` in the Prometheus text format, through `prometheus_client`.

Two kinds of metrics:
- gauges read from the database at scrape time, so every worker answers the same: each feature contributes
  its own in its `metrics.py` with `@gauges` (evaluations, submissions, notification e-mails), and this
  feature the scheduler's (last cycle, heartbeat age, and each step's runs, failures and last success, as
  recorded by `app.ops.steps`);
- the request-latency histogram, which each gunicorn worker writes to its file in the metrics folder
  (prometheus_client's multiprocess mode, see `observability`); a scrape adds every worker's up.

Names follow Prometheus' conventions: base units (seconds, bytes) in the name, `_total` only on counters.

Access: a Prometheus server sends `Authorization: Bearer $LAGC_METRICS_TOKEN`; an organiser may use their
personal API token (or their signed-in session). Anyone else gets 401.
"""

from __future__ import annotations

import hmac
from typing import Callable, Iterable, Iterator

from flask import Response, current_app, request
from flask_login import current_user
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.models import Role
from app.accounts.services import user_for_token
from app.db import get_session, utcnow
from app.ops.models import SchedulerLease
from app.ops.observability import enable_multiprocess
from app.ops.steps import steps
from app.ops.routes import bp
from app.security import public

Gauges = Callable[[Session], Iterable[Metric]]
SOURCES: list[Gauges] = []


def gauges(source: Gauges) -> Gauges:
    """Register a feature's gauges: a function of a session that yields metric families at scrape time."""
    SOURCES.append(source)
    return source


def counts_by(session: Session, column, values: Iterable[str]) -> dict[str, int]:
    """How many rows have each of `values` in `column` (zero for the ones no row has)."""
    found = {
        getattr(key, "value", key): count
        for key, count in session.execute(select(column, func.count()).group_by(column)).all()
    }
    return {value: found.get(value, 0) for value in values}


def by_label(name: str, documentation: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    """A gauge family with one sample per value of `label`."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in counts.items():
        family.add_metric([value], count)
    return family


@gauges
def scheduler_gauges(session: Session) -> Iterator[Metric]:
    """The scheduler's last cycle and how long ago it last renewed its lease (absent before it first ran)."""
    lease = session.get(SchedulerLease, "scheduler")
    if lease is None:
        return
    yield GaugeMetricFamily(
        "lagc_scheduler_last_cycle_seconds",
        "Duration of the scheduler's last cycle.",
        value=(lease.last_cycle_ms or 0) / 1000,
    )
    yield GaugeMetricFamily(
        "lagc_scheduler_heartbeat_age_seconds",
        "Seconds since the scheduler's last heartbeat.",
        value=(utcnow() - lease.heartbeat_at).total_seconds(),
    )


STEP_COUNTERS = (
    ("lagc_scheduler_step_runs", "Runs of each scheduler step.", "runs_total"),
    (
        "lagc_scheduler_step_failures",
        "Runs of each scheduler step that raised or in which an item failed.",
        "failures_total",
    ),
    (
        "lagc_scheduler_step_item_failures",
        "Items a scheduler step failed on (each rolled back alone).",
        "item_failures_total",
    ),
)


@gauges
def scheduler_step_gauges(session: Session) -> Iterator[Metric]:
    """Per scheduler step (`app.ops.steps`), labelled `step`: runs, failed runs and failed items (counters, kept
    in the database so every worker answers the same), failed runs in a row, and when it last ran without a
    failure (absent until it has)."""
    rows = steps(session)
    for name, documentation, column in STEP_COUNTERS:
        counter = CounterMetricFamily(name, documentation, labels=["step"])
        for row in rows:
            counter.add_metric([row.name], getattr(row, column) or 0)
        yield counter
    in_a_row = GaugeMetricFamily(
        "lagc_scheduler_step_consecutive_failures",
        "Failed runs of each scheduler step since its last run without a failure.",
        labels=["step"],
    )
    last_success = GaugeMetricFamily(
        "lagc_scheduler_step_last_success_timestamp_seconds",
        "When each scheduler step last ran without a failure (Unix time).",
        labels=["step"],
    )
    for row in rows:
        in_a_row.add_metric([row.name], row.consecutive_failures or 0)
        if row.last_success_at is not None:
            last_success.add_metric([row.name], row.last_success_at.timestamp())
    yield in_a_row
    yield last_success


class DatabaseGauges:
    """A collector over every registered source, for one scrape's session."""

    def __init__(self, session: Session):
        self.session = session

    def collect(self) -> Iterator[Metric]:
        for source in SOURCES:
            yield from source(self.session)


def exposition(session: Session) -> bytes:
    """Every gauge and every worker's latency histogram, in the Prometheus text format."""
    registry = CollectorRegistry()
    registry.register(DatabaseGauges(session))
    MultiProcessCollector(registry, path=str(enable_multiprocess(current_app.config["LAGC"].metrics_dir)))
    return generate_latest(registry)


def _allowed(session: Session) -> bool:
    settings = current_app.config["LAGC"]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        plain = header[7:].strip()
        if settings.metrics_token and hmac.compare_digest(plain.encode(), settings.metrics_token.encode()):
            return True
        user = user_for_token(session, plain)
        return user is not None and Role(user.role) is Role.organiser
    return current_user.is_authenticated and Role(current_user.role) is Role.organiser


@bp.route("/metrics")
@public  # the access check is below: a bearer token (Prometheus or an organiser's), not the page decorators
def metrics():
    """The platform's metrics in the Prometheus text format."""
    session = get_session()
    if not _allowed(session):
        session.rollback()
        return Response(
            "Send a metrics bearer token or an organiser's API token.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"},
        )
    session.commit()  # a token's last_used_at
    return Response(exposition(session), 200, {"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})
