"""What a site's agent reports of a lease, each a move of the evaluation by compare-and-set (``leases.cas``).

Reports are idempotent: an agent that lost an answer sends the same report again and gets the same answer
(``staged`` again, ``submitting`` with the same job folder, ``submitted`` with the same job id, ``running``
once running). A report the evaluation's state does not allow (the lease expired and went elsewhere, the
attempt is over) is a conflict: the agent must drop the lease, and never submit a job it was not bound to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlmodel import Session

from app.settings import Settings
from evaluation import services
from evaluation.agent.protocol import (
    CANCELLED,
    FAILED,
    RELEASED,
    RUNNING,
    STAGED,
    SUBMITTED,
    SUBMITTING,
)
from evaluation.ingest import settle
from evaluation.models import Evaluation, EvaluationState as S, Site
from evaluation.runners.base import CANCELLED as RUN_CANCELLED, FAILED as RUN_FAILED
from evaluation.sites.leases import cas, claim_end, pinned_profile, retry_delay, status_from
from evaluation.sites.services import SiteError


def report(
    session: Session, settings: Settings, site: Site, ev: Evaluation, event: str, body: Mapping[str, Any], now: datetime
) -> None:
    """Apply one report of the site's agent to its lease (SiteError 409 when the state does not allow it)."""
    handlers = {
        STAGED: _staged,
        SUBMITTING: _submitting,
        SUBMITTED: _submitted,
        RUNNING: _running,
        FAILED: _ended,
        CANCELLED: _ended,
        RELEASED: _ended,
    }
    handlers[event](session, settings, site, ev, event, body, now)


def _conflict(ev: Evaluation, event: str) -> SiteError:
    return SiteError(
        f"evaluation {ev.id} is {S(ev.state).value} at attempt {ev.attempt}: a {event!r} report "
        "does not apply (drop the lease)",
        409,
        "event",
    )


def _staged(session, settings, site, ev, event, body, now) -> None:
    if S(ev.state) != S.dispatching:
        raise _conflict(ev, event)
    services.audit(
        session,
        ev,
        "evaluation.staged",
        site=site.name,
        cluster=ev.cluster,
        seconds=body.get("seconds"),
        fetched_bytes=body.get("fetched_bytes"),
    )


def _submitting(session, settings, site, ev, event, body, now) -> None:
    """Bind the lease to its job folder: from now on the evaluation stays with this site."""
    job_dir = str(body.get("job_dir") or "")[:1000]
    if not job_dir:
        raise SiteError("a 'submitting' report names the job folder (job_dir)", 422, "job_dir")
    if S(ev.state) == S.dispatching and ev.work_dir == job_dir:
        return  # the same report again
    if not cas(
        session,
        ev,
        [
            Evaluation.state == S.dispatching,
            Evaluation.site_id == site.id,
            Evaluation.attempt == ev.attempt,
            Evaluation.work_dir.is_(None),
        ],
        work_dir=job_dir,
    ):
        raise _conflict(ev, event)
    services.move(ev, S.dispatching, now, f"site {site.name} is submitting the job")


def _submitted(session, settings, site, ev, event, body, now) -> None:
    job_id = str(body.get("job_id") or "")[:64]
    if not job_id:
        raise SiteError("a 'submitted' report names the Slurm job id (job_id)", 422, "job_id")
    if S(ev.state) in (S.dispatched, S.running) and ev.job_id == job_id:
        return
    if not cas(
        session,
        ev,
        [
            Evaluation.state == S.dispatching,
            Evaluation.site_id == site.id,
            Evaluation.attempt == ev.attempt,
            Evaluation.work_dir.is_not(None),
        ],
        job_id=job_id,
        job_token=ev.cluster,
    ):
        raise _conflict(ev, event)
    services.move(ev, S.dispatched, now, f"job {job_id} at site {site.name}")
    services.audit(session, ev, "evaluation.submitted", site=site.name, cluster=ev.cluster, job_id=job_id)


def _running(session, settings, site, ev, event, body, now) -> None:
    if S(ev.state) == S.running:
        return
    node = str(body.get("node") or "")[:120] or None
    if not cas(
        session,
        ev,
        [Evaluation.state == S.dispatched, Evaluation.site_id == site.id, Evaluation.attempt == ev.attempt],
        started_at=now,
        node=node or ev.node,
    ):
        raise _conflict(ev, event)
    services.move(ev, S.running, now, f"on {node} at site {site.name}" if node else f"at site {site.name}")


def _ended(session, settings, site, ev, event, body, now) -> None:
    """The job failed or was cancelled at the site, or the agent gave the lease up before submitting (it
    could not stage it): the attempt ends through the scheduler's own code (charged, retried if allowed)."""
    if not claim_end(session, ev, site, now):
        raise _conflict(ev, event)
    if event == RELEASED:
        body = {
            **body,
            "retryable": True,
            "reason": f"site {site.name} could not run it: {body.get('reason') or 'no reason given'}",
        }
    status = status_from(body, RUN_CANCELLED if event == CANCELLED else RUN_FAILED)
    if event == CANCELLED and not ev.cancel_requested:
        status = status_from(
            {**body, "retryable": True, "reason": f"the job was cancelled at site {site.name}, not by the platform"},
            RUN_FAILED,
        )
    settle(session, ev, status, pinned_profile(ev), now, retry_delay(session, settings, ev), settings)
    services.audit(session, ev, "evaluation.site_" + event, site=site.name, reason=status.reason)
