"""Leases: an evaluation held by a site, moved by compare-and-set updates so that no evaluation ever runs twice.

Every move of a leased evaluation is one ``UPDATE ... WHERE`` naming the state (and site, attempt) it moves
from; only the caller whose update changed the row goes on (and mirrors the move in the ORM object, with
its history and audit event). Two processes can therefore never both take, expire, bind or settle the same
lease, on SQLite (one writer at a time) as on PostgreSQL (the row is locked by the first update and the
second re-checks its condition after the first commits).

The life of a lease (``Evaluation.state``):

    queued --grant--> dispatching (site_id, lease_expires_at; the agent stages)
        --expire (not renewed, never bound)--> queued, for any site
        --bind ("submitting": work_dir set)--> dispatching, bound: it stays with the site from now on
        --submitted--> dispatched --running--> running --result / failed / cancelled--> finished | failed
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import update
from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.models import Challenge
from app.db import utcnow
from app.settings import Settings
from evaluation import services
from evaluation.agent.protocol import site_request
from evaluation.clusters import ClusterProfile
from evaluation.jobspec import job_name
from evaluation.models import Evaluation, EvaluationState as S, Site
from evaluation.planning import choose_cluster, setup_of
from evaluation.policy import SITE_RUNNER, SITES_CLUSTER
from evaluation.runners.base import RunStatus
from evaluation.sites.rules import aware as _aware, releasable
from evaluation.sites.services import HELD, SiteError, get_site


def cas(session: Session, ev: Evaluation, where: list, **values: Any) -> bool:
    """Update the row only if it still meets ``where``; on success mirror ``values`` in ``ev`` (its state is
    moved by the caller, with the history entry). True when this caller changed the row."""
    result = session.execute(
        update(Evaluation)
        .where(Evaluation.id == ev.id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    for key, value in values.items():
        if key != "state":
            setattr(ev, key, value)
    return True


def grant(
    session: Session,
    ev: Evaluation,
    site: Site,
    cluster: str,
    profile: ClusterProfile,
    now: datetime,
    lease_seconds: float,
) -> bool:
    """Lease a queued evaluation to a site on one of its clusters (False when it is no longer queued)."""
    if not cas(
        session,
        ev,
        [Evaluation.state == S.queued, Evaluation.site_id.is_(None)],
        state=S.dispatching,
        site_id=site.id,
        cluster=cluster,
        dispatched_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
    ):
        return False
    ev.request = choose_cluster(ev.request, cluster, profile)
    services.move(ev, S.dispatching, now, f"leased to site {site.name} ({cluster})")
    services.audit(session, ev, "evaluation.leased", site=site.name, cluster=cluster)
    return True


def expire(session: Session, now: datetime) -> list[int]:
    """Every lease that was not renewed in time and whose job was never submitted goes back to the queue."""
    expired = []
    for ev in session.exec(
        select(Evaluation).where(
            Evaluation.state == S.dispatching,
            Evaluation.runner == SITE_RUNNER,
            Evaluation.work_dir.is_(None),
            Evaluation.lease_expires_at < now,
        )
    ).all():
        if not releasable(S(ev.state).value, ev.work_dir, _aware(ev.lease_expires_at), now):
            continue
        site = session.get(Site, ev.site_id) if ev.site_id else None
        name = site.name if site else "?"
        if _unbind(session, ev, now, f"the lease of site {name} expired before its job was submitted"):
            services.audit(session, ev, "evaluation.lease_expired", site=name)
            expired.append(ev.id)
    return expired


def _unbind(session: Session, ev: Evaluation, now: datetime, reason: str) -> bool:
    """Back to the queue, for any site, if the lease was never bound to a job (compare-and-set)."""
    if not cas(
        session,
        ev,
        [Evaluation.state == S.dispatching, Evaluation.work_dir.is_(None), Evaluation.site_id == ev.site_id],
        state=S.queued,
        site_id=None,
        lease_expires_at=None,
        dispatched_at=None,
        cluster=SITES_CLUSTER,
    ):
        return False
    services.move(ev, S.queued, now, reason)
    return True


def give_back(session: Session, ev: Evaluation, site: Site, now: datetime, reason: str) -> None:
    """A site that may no longer hold work (revoked): an unbound lease goes back to the queue; a job that may
    run there fails as a retryable attempt (its results will not be accepted)."""
    if S(ev.state) == S.dispatching and ev.work_dir is None:
        if _unbind(session, ev, now, reason):
            services.audit(session, ev, "evaluation.lease_expired", site=site.name, reason=reason)
        return
    if claim_end(session, ev, site, now):
        services.fail(
            session, ev, f"{reason}: the job there no longer counts", (), retryable=True, now=now, retry_delay=0
        )


def claim_end(session: Session, ev: Evaluation, site: Site, now: datetime) -> bool:
    """Claim the right to end this attempt (a result, a failure): exactly one caller gets it."""
    return cas(
        session,
        ev,
        [
            Evaluation.site_id == site.id,
            Evaluation.attempt == ev.attempt,
            Evaluation.state.in_([s.value for s in HELD]),
            Evaluation.finished_at.is_(None),
        ],
        finished_at=now,
    )


def revoke_site(session: Session, name: str, now: datetime | None = None) -> Site:
    """Revoke a site's token: its agent is refused from now on, and what it held is given back (above)."""
    now = now or utcnow()
    site = get_site(session, name)
    if site is None:
        raise SiteError(f"no site {name!r}", 404, "name")
    if site.revoked_at is not None:
        raise SiteError(f"site {name!r} is already revoked", 409, "name")
    site.revoked_at = now
    session.add(site)
    for ev in session.exec(
        select(Evaluation).where(Evaluation.site_id == site.id, Evaluation.state.in_([s.value for s in HELD]))
    ).all():
        give_back(session, ev, site, now, f"site {site.name} was revoked")
    record(session, "site.revoked", "site", site.name)
    return site


def lease_for(session: Session, site: Site, evaluation_id: int, attempt: int) -> Evaluation:
    """The evaluation if this attempt of it is leased to the site; 404 for any other site's (or none), 409 for
    an attempt that is over."""
    ev = session.get(Evaluation, evaluation_id)
    if ev is None or ev.site_id != site.id:
        raise SiteError(f"no lease of evaluation {evaluation_id} is held by site {site.name}", 404)
    if ev.attempt != attempt:
        raise SiteError(
            f"attempt {attempt} of evaluation {evaluation_id} is over (it is at attempt {ev.attempt})", 409, "attempt"
        )
    return ev


def payload(ev: Evaluation) -> dict[str, Any]:
    """A lease as the agent receives it: the evaluation's state and its request without platform paths."""
    return {
        "evaluation_id": ev.id,
        "attempt": ev.attempt,
        "state": S(ev.state).value,
        "cluster": ev.cluster,
        "cancel": bool(ev.cancel_requested),
        "bound": ev.work_dir is not None,
        "job_name": job_name(ev.id, ev.attempt),
        "job_id": ev.job_id,
        "lease_expires_at": _aware(ev.lease_expires_at).isoformat() if ev.lease_expires_at else None,
        "request": site_request(ev.request or {}),
    }


def summary(ev: Evaluation) -> dict[str, Any]:
    """A held lease in a heartbeat's answer: enough to renew, cancel or drop it."""
    return {
        "evaluation_id": ev.id,
        "attempt": ev.attempt,
        "state": S(ev.state).value,
        "cancel": bool(ev.cancel_requested),
        "bound": ev.work_dir is not None,
    }


def pinned_profile(ev: Evaluation) -> ClusterProfile:
    """The cluster profile the lease named (as the platform read it when it leased the evaluation)."""
    return ClusterProfile.from_config(ev.request["profile"])


def status_from(body: Mapping[str, Any], state: str) -> RunStatus:
    """A runner status from what an agent reported of its job."""
    tail = tuple(str(line)[:500] for line in (body.get("log_tail") or ())[-20:])
    return RunStatus(
        state,
        str(body.get("reason") or "")[:2000],
        body.get("exit_code"),
        tail,
        body.get("node"),
        body.get("started_at"),
        body.get("ended_at"),
        body.get("elapsed_seconds"),
        body.get("scheduler_state"),
        bool(body.get("retryable")),
    )


def retry_delay(session: Session, settings: Settings, ev: Evaluation) -> float:
    """The challenge's pause before a retryable failure goes back to the queue."""
    try:
        return setup_of(session.get(Challenge, ev.challenge_id), settings).policy.retry_delay_seconds
    except ValueError:  # SetupError too: a challenge that no longer parses keeps the default
        return 10.0
