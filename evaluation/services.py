"""The evaluation state machine: each transition is a small function that moves one row, appends the move to
``Evaluation.history`` and, where a person would want to know, writes an audit event.

queued -> dispatching -> dispatched -> running -> finished | failed | cancelled; failed with ``retry_at``
goes back to queued (a new attempt). Nothing here starts or polls a job: the scheduler steps (jobs.py) do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from app.audit.services import record
from app.db import compare_and_set, utcnow
from app.errors import DomainError, Kind
from app.teams.models import Team
from evaluation.models import Evaluation, EvaluationPurpose, EvaluationState as S, GpuCharge, Site, TaskResult
from evaluation.policy import SITE_RUNNER, SITES_CLUSTER
from evaluation.runners.base import RunHandle

ACTIVE = (S.dispatching, S.dispatched, S.running)
OPEN = (S.queued, *ACTIVE)
LOG_LINES = 20


class EvaluationError(DomainError, ValueError):
    """A transition that is not allowed from the evaluation's state (the message says why)."""

    kind = Kind.conflict


def move(ev: Evaluation, to: S, now: datetime, reason: str | None = None) -> None:
    """Change the state and remember the move (a new list, so the JSON column is seen as changed)."""
    entry = {"at": now.isoformat(), "from": S(ev.state).value, "to": to.value, "attempt": ev.attempt}
    if reason:
        entry["reason"] = reason
    ev.history = [*(ev.history or []), entry]
    ev.state = to


def audit(session: Session, ev: Evaluation, action: str, actor_id: int | None = None, **details) -> None:
    record(
        session,
        action,
        "evaluation",
        ev.id,
        actor_id=actor_id,
        challenge_id=ev.challenge_id,
        team_id=ev.team_id,
        submission_id=ev.submission_id,
        attempt=ev.attempt,
        **details,
    )


def create(
    session: Session,
    challenge_id: int,
    team_id: int,
    submission_id: int,
    request: dict,
    max_attempts: int,
    now: Optional[datetime] = None,
    purpose: EvaluationPurpose = EvaluationPurpose.primary,
) -> Evaluation:
    """A queued evaluation of an accepted submission, with the suite pinned in ``request``; only a ``primary``
    one can count for the team (`evaluation.counting.COUNTED_PURPOSES`)."""
    now = now or utcnow()
    ev = Evaluation(
        challenge_id=challenge_id,
        team_id=team_id,
        submission_id=submission_id,
        purpose=purpose.value,
        runner=request.get("runner", "local"),
        cluster=request.get("cluster", "local"),
        request=request,
        max_attempts=max_attempts,
        queued_at=now,
        history=[{"at": now.isoformat(), "to": "queued", "attempt": 1}],
    )
    session.add(ev)
    session.flush()
    audit(session, ev, "evaluation.queued", cluster=ev.cluster)
    return ev


def unrunnable(
    session: Session, challenge_id: int, team_id: int, submission_id: int, reason: str, now: Optional[datetime] = None
) -> Evaluation:
    """An evaluation that cannot run as the challenge is configured: failed at once, reason kept."""
    ev = create(session, challenge_id, team_id, submission_id, {}, 1, now)
    fail(session, ev, reason, (), retryable=False, now=now)
    return ev


def still_as_read(session: Session, ev: Evaluation) -> bool:
    """Lock the evaluation for the rest of the transaction if its state, attempt and cancel request are
    still those this request read (`app.db.compare_and_set`); False when someone changed it meanwhile."""
    return compare_and_set(
        session, Evaluation, ev.id, {"state": ev.state, "attempt": ev.attempt, "cancel_requested": ev.cancel_requested}
    )


def _changed_meanwhile(session: Session, ev: Evaluation) -> None:
    """Refuse an organiser's act on a row another request (a second click, the scheduler) changed since."""
    if not still_as_read(session, ev):
        raise EvaluationError(
            f"evaluation {ev.id} changed meanwhile (another request or the scheduler acted on "
            "it); reload the page to see its state"
        )


def claim_dispatch(session: Session, ev: Evaluation, work_dir: str, now: datetime) -> bool:
    """The scheduler's claim on a queued evaluation it read: marked dispatching only if it is still as read
    (an organiser may have cancelled it since); False otherwise, and nothing is changed."""
    if not still_as_read(session, ev):
        return False
    mark_dispatching(ev, work_dir, now)
    return True


def mark_dispatching(ev: Evaluation, work_dir: str, now: datetime) -> None:
    """The job folder is chosen and the submission to the cluster is about to happen (commit first)."""
    ev.work_dir, ev.dispatched_at = work_dir, now
    move(ev, S.dispatching, now)


def mark_dispatched(ev: Evaluation, handle: RunHandle, now: datetime) -> None:
    """The cluster accepted the job: its id is known."""
    ev.job_id, ev.job_token, ev.work_dir = handle.job_id, handle.token, handle.job_dir
    move(ev, S.dispatched, now, f"job {handle.job_id}")


def mark_running(ev: Evaluation, now: datetime, node: str | None = None) -> None:
    """The job started on a node."""
    ev.started_at, ev.node = now, node or ev.node
    move(ev, S.running, now, f"on {node}" if node else None)


def handle_of(ev: Evaluation) -> RunHandle:
    """The runner handle stored in the row."""
    return RunHandle(runner=ev.runner, job_id=ev.job_id or "", job_dir=ev.work_dir or "", token=ev.job_token or "")


def finish(session: Session, ev: Evaluation, now: datetime) -> None:
    """Scores are recorded (by ingest, in the same transaction)."""
    ev.finished_at, ev.failure_reason, ev.retry_at = now, None, None
    move(ev, S.finished, now)
    audit(session, ev, "evaluation.finished", cluster=ev.cluster, job_id=ev.job_id, gpu_hours=ev.gpu_hours)


def fail(
    session: Session,
    ev: Evaluation,
    reason: str,
    log_tail: Iterable[str],
    retryable: bool,
    now: Optional[datetime] = None,
    retry_delay: float = 10.0,
) -> None:
    """The attempt failed; with attempts left and a cause that is not the model's, it is retried later."""
    now = now or utcnow()
    ev.failure_reason, ev.finished_at = reason, now
    tail = list(log_tail)[-LOG_LINES:]
    if tail:
        ev.log_tail = "\n".join(tail)
    will_retry = retryable and ev.attempt < ev.max_attempts
    ev.retry_at = now + timedelta(seconds=retry_delay) if will_retry else None
    move(ev, S.failed, now, reason)
    audit(session, ev, "evaluation.failed", reason=reason, will_retry=will_retry)


def cancelled(session: Session, ev: Evaluation, now: datetime, reason: str = "cancelled by an organiser") -> None:
    """The job is stopped (or never started)."""
    ev.finished_at, ev.failure_reason, ev.retry_at, ev.cancel_requested = now, reason, None, False
    move(ev, S.cancelled, now, reason)


def requeue(ev: Evaluation, now: datetime, reason: str) -> None:
    """A new attempt: back to the queue with the job fields cleared (the history keeps the old ones)."""
    ev.attempt += 1
    ev.job_id = ev.job_token = ev.node = ev.work_dir = ev.results_path = None
    ev.dispatched_at = ev.started_at = ev.finished_at = ev.retry_at = ev.lease_expires_at = ev.site_id = None
    if ev.runner == SITE_RUNNER:
        ev.cluster = SITES_CLUSTER  # any site of the challenge's clusters may lease the new attempt
    ev.cancel_requested, ev.queued_at = False, now
    move(ev, S.queued, now, reason)


def request_cancel(session: Session, ev: Evaluation, actor_id: int, now: Optional[datetime] = None) -> None:
    """An organiser cancels: a queued evaluation at once, a dispatched one by the scheduler's next cycle."""
    now = now or utcnow()
    if ev.state not in OPEN:
        raise EvaluationError(f"evaluation {ev.id} is {S(ev.state).value}: there is nothing to cancel")
    if ev.cancel_requested:
        raise EvaluationError(f"evaluation {ev.id} is being cancelled already")
    _changed_meanwhile(session, ev)
    audit(session, ev, "evaluation.cancel_requested", actor_id=actor_id, state=S(ev.state).value)
    if ev.state == S.queued:
        cancelled(session, ev, now)
    else:
        ev.cancel_requested = True


def organiser_retry(session: Session, ev: Evaluation, actor_id: int, now: Optional[datetime] = None) -> None:
    """An organiser runs a failed or cancelled evaluation again (one more attempt, whatever the limit)."""
    now = now or utcnow()
    if ev.state not in (S.failed, S.cancelled):
        raise EvaluationError(f"evaluation {ev.id} is {S(ev.state).value}: only failed or cancelled ones are retried")
    _changed_meanwhile(session, ev)
    ev.max_attempts = max(ev.max_attempts, ev.attempt + 1)
    requeue(ev, now, "retried by an organiser")
    audit(session, ev, "evaluation.retried", actor_id=actor_id)


def charge(session: Session, ev: Evaluation, gpu_hours: float, now: datetime) -> None:
    """GPU-hours of this attempt, charged once to the team on the evaluation's cluster."""
    exists = session.exec(
        select(GpuCharge.id).where(GpuCharge.evaluation_id == ev.id, GpuCharge.attempt == ev.attempt)
    ).first()
    if exists is None:
        session.add(
            GpuCharge(
                challenge_id=ev.challenge_id,
                team_id=ev.team_id,
                evaluation_id=ev.id,
                attempt=ev.attempt,
                cluster=ev.cluster,
                gpu_hours=gpu_hours,
                charged_at=now,
            )
        )
        ev.gpu_hours = (ev.gpu_hours or 0.0) + gpu_hours


def queue_position(session: Session, ev: Evaluation) -> Optional[int]:
    """1-based place in the cluster's queue (None when not queued)."""
    if ev.state != S.queued:
        return None
    ahead = session.exec(
        select(func.count())
        .select_from(Evaluation)
        .where(
            Evaluation.state == S.queued,
            Evaluation.cluster == ev.cluster,
            or_(Evaluation.queued_at < ev.queued_at, and_(Evaluation.queued_at == ev.queued_at, Evaluation.id < ev.id)),
        )
    ).one()
    return int(ahead) + 1


def used_gpu_hours(session: Session, team_ids: Iterable[int]) -> dict[tuple[int, str], float]:
    """{(team id, cluster): GPU-hours charged so far}."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(GpuCharge.team_id, GpuCharge.cluster, func.sum(GpuCharge.gpu_hours))
        .where(GpuCharge.team_id.in_(ids))
        .group_by(GpuCharge.team_id, GpuCharge.cluster)
    ).all()
    return {(team, cluster): float(hours or 0.0) for team, cluster, hours in rows}


def listing(session: Session, challenge_id: int) -> list[dict]:
    """Every evaluation of a challenge, oldest first: ``{id, team, submission, state, site, cluster, job_id,
    tasks: {task: {metric, value, stderr}}}`` (``flask eval list``)."""
    rows = session.exec(
        select(Evaluation, Team.name, Site.name)
        .join(Team, Team.id == Evaluation.team_id)
        .outerjoin(Site, Site.id == Evaluation.site_id)
        .where(Evaluation.challenge_id == challenge_id)
        .order_by(Evaluation.id)
    ).all()
    scores: dict[int, dict] = {}
    for r in session.exec(
        select(TaskResult).where(TaskResult.evaluation_id.in_([ev.id for ev, _, _ in rows])).order_by(TaskResult.id)
    ).all():
        scores.setdefault(r.evaluation_id, {})[r.task] = {"metric": r.metric, "value": r.value, "stderr": r.stderr}
    return [
        {
            "id": ev.id,
            "team": team,
            "submission": ev.submission_id,
            "state": S(ev.state).value,
            "site": site,
            "cluster": ev.cluster,
            "job_id": ev.job_id,
            "tasks": scores.get(ev.id, {}),
        }
        for ev, team, site in rows
    ]
