"""`/metrics` in the Prometheus text format.

Gauges are computed from the database at scrape time (queue depth, evaluations by state, submissions by
status, notification e-mails by state, the scheduler's last cycle), so every worker answers the same and no
multiprocess client library is needed. Request latency is a histogram per worker (see `observability`).

Access: a Prometheus server sends `Authorization: Bearer $LAGC_METRICS_TOKEN`; an organiser may use their
personal API token (or their signed-in session). Anyone else gets 401.
"""
from __future__ import annotations

import hmac

from flask import Response, current_app, request
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.models import Role
from app.db import get_session, utcnow
from app.ops.exposition import CONTENT_TYPE, family, histogram_samples
from app.ops.models import SchedulerLease
from app.ops.observability import worker_histograms
from app.ops.routes import bp
from app.security import public


def _allowed(session: Session) -> bool:
    from app.accounts.services import user_for_token

    settings = current_app.config["LAGC"]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        plain = header[7:].strip()
        if settings.metrics_token and hmac.compare_digest(plain.encode(), settings.metrics_token.encode()):
            return True
        user = user_for_token(session, plain)
        return user is not None and Role(user.role) is Role.organiser
    return current_user.is_authenticated and Role(current_user.role) is Role.organiser


def _counts(session: Session, column, states) -> list[tuple[str, dict, float]]:
    found = dict(session.execute(select(column, func.count()).group_by(column)).all())
    found = {getattr(k, "value", k): v for k, v in found.items()}
    return [("", {"state": s}, found.get(s, 0)) for s in states]


def database_families(session: Session) -> list[str]:
    """The gauges read from the database."""
    from app.checkpoints.models import Submission, SubmissionStatus
    from app.notifications.models import Notification
    from evaluation.models import Evaluation, EvaluationState

    evaluations = _counts(session, Evaluation.state, [s.value for s in EvaluationState])
    queued = next(v for _, labels, v in evaluations if labels["state"] == "queued")
    submissions = [("", {"status": labels["state"]}, v) for _, labels, v in
                   _counts(session, Submission.status, [s.value for s in SubmissionStatus])]
    emails = _counts(session, Notification.email_state, ["queued", "sent", "failed", "skipped"])
    lease = session.get(SchedulerLease, "scheduler")
    families = [
        family("lagc_evaluation_queue_depth", "gauge", "Evaluations waiting to be dispatched.", [("", {}, queued)]),
        family("lagc_evaluations", "gauge", "Evaluations by state.", evaluations),
        family("lagc_submissions", "gauge", "Submissions by status.", submissions),
        family("lagc_notification_emails", "gauge", "Notification e-mails by state.", emails),
    ]
    if lease is not None:
        families.append(family("lagc_scheduler_last_cycle_milliseconds", "gauge",
                               "Duration of the scheduler's last cycle.", [("", {}, lease.last_cycle_ms or 0)]))
        families.append(family("lagc_scheduler_heartbeat_age_seconds", "gauge", "Seconds since the scheduler's "
                               "last heartbeat.", [("", {}, (utcnow() - lease.heartbeat_at).total_seconds())]))
    return families


def latency_family() -> str:
    """The request-latency histogram of every worker, labelled by worker."""
    samples = []
    for worker, snapshot in sorted(worker_histograms(current_app.config["LAGC"].instance_dir).items()):
        samples += histogram_samples(snapshot, {"worker": worker})
    return family("lagc_http_request_duration_seconds", "histogram", "Web request latency per worker.", samples)


@bp.route("/metrics")
@public  # the access check is below: a bearer token (Prometheus or an organiser's), not the page decorators
def metrics():
    """The platform's metrics in the Prometheus text format."""
    session = get_session()
    if not _allowed(session):
        session.rollback()
        return Response("Send a metrics bearer token or an organiser's API token.\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"})
    session.commit()  # a token's last_used_at
    body = "".join(database_families(session)) + latency_family()
    return Response(body, 200, {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})
