"""The scheduler's step for site evaluations: expire the leases no heartbeat renewed, then lease queued
evaluations to online sites (``rules.plan_site_dispatch``: the clusters' concurrency, the teams' GPU-hour
allocations, the sites' ``max_jobs``, each evaluation's placement). The scheduler never runs ``sbatch`` for
them: each site's agent picks its leases up with its next poll."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select as sa_select
from sqlmodel import Session, select

from evaluation import services
from evaluation.cycle import Cycle, reserved_gpu_hours
from evaluation.models import Evaluation, EvaluationState as S, Site
from evaluation.planning import SetupError, gpu_hours_at_most
from evaluation.policy import SITE_RUNNER, Candidate
from evaluation.sites import leases
from evaluation.sites.rules import Placement, SiteCandidate, SiteSlot, aware, online, plan_site_dispatch
from evaluation.sites.services import HELD

log = logging.getLogger("lagc.sites")
WINDOW = 500  # queued site evaluations considered per cycle


def lease_to_sites(cycle: Cycle) -> None:
    """One cycle's leasing (``cycle``: evaluation.jobs.Cycle), committed lease by lease."""
    session, now = cycle.session, cycle.now
    ttl = cycle.settings.site_lease_seconds
    leases.expire(session, now)
    session.commit()
    slots = _slots(session, now, ttl)
    if not slots:
        return
    queued = session.exec(
        select(Evaluation)
        .where(Evaluation.state == S.queued, Evaluation.runner == SITE_RUNNER)
        .order_by(Evaluation.queued_at, Evaluation.id)
        .limit(WINDOW)
    ).all()
    if not queued:
        return
    candidates = [c for c in (_candidate(cycle, ev) for ev in queued) if c is not None]
    teams = {c.team_id for c in candidates}
    active = dict(
        session.exec(
            select(Evaluation.cluster, func.count())
            .where(Evaluation.state.in_([s.value for s in services.ACTIVE]))
            .group_by(Evaluation.cluster)
        ).all()
    )
    granted, exhausted = plan_site_dispatch(
        candidates, slots, active, services.used_gpu_hours(session, teams), reserved_gpu_hours(cycle, teams)
    )
    by_id, sites = {ev.id: ev for ev in queued}, {slot.site_id: session.get(Site, slot.site_id) for slot in slots}
    for ev_id in exhausted:
        services.fail(
            session,
            by_id[ev_id],
            "the team's GPU-hour allocations on the challenge's clusters cannot "
            "cover this evaluation within its time limit; an organiser can raise them",
            (),
            retryable=False,
            now=now,
        )
    session.commit()
    for grant in granted:
        ev = by_id[grant.evaluation_id]
        profile = cycle.setup(ev.challenge_id).profile(grant.cluster)
        if leases.grant(session, ev, sites[grant.site_id], grant.cluster, profile, now, ttl):
            session.commit()
        else:
            session.rollback()


def _slots(session: Session, now: datetime, ttl: float) -> list[SiteSlot]:
    """Every online site with the number of evaluations it may still take."""
    fresh = now - timedelta(seconds=ttl)
    sites = session.exec(select(Site).where(Site.revoked_at.is_(None), Site.last_seen_at >= fresh)).all()
    sites = [s for s in sites if online(aware(s.last_seen_at), s.revoked_at, now, ttl)]
    if not sites:
        return []
    held = dict(
        session.exec(
            select(Evaluation.site_id, func.count())
            .where(Evaluation.site_id.in_([s.id for s in sites]), Evaluation.state.in_([s.value for s in HELD]))
            .group_by(Evaluation.site_id)
        ).all()
    )
    return [SiteSlot(s.id, s.name, s.cluster, max(0, s.max_jobs - int(held.get(s.id, 0)))) for s in sites]


def _candidate(cycle: Cycle, ev: Evaluation) -> SiteCandidate | None:
    """The dispatcher's view of a queued site evaluation: one option per cluster it was planned for, in its
    challenge's order (None when its challenge can no longer be read: it waits, and the reason is logged)."""
    try:
        setup = cycle.setup(ev.challenge_id)
        planned = (ev.request or {}).get("clusters") or {}
        options = tuple(
            Candidate(
                ev.id,
                ev.team_id,
                name,
                setup.policy.concurrency(name),
                setup.policy.allocation(name),
                gpu_hours_at_most(setup, name, planned[name]),
            )
            for name in setup.policy.clusters
            if name in planned
        )
    except SetupError as exc:
        log.warning("evaluation %s cannot be leased: %s", ev.id, exc)
        return None
    return SiteCandidate(ev.id, ev.team_id, options, Placement.from_request(ev.request or {}))


def sites_wake(session: Session, now: datetime, busy: float) -> float | None:
    """How soon the scheduler should lease again (read-only): at once when site evaluations wait and a site is
    online to take them, at the busy pace while unbound leases may expire, else at the regular interval."""
    queued = exists().where(Evaluation.state == S.queued, Evaluation.runner == SITE_RUNNER)
    leased = exists().where(
        Evaluation.state == S.dispatching, Evaluation.runner == SITE_RUNNER, Evaluation.work_dir.is_(None)
    )
    recent = exists().where(Site.revoked_at.is_(None), Site.last_seen_at >= now - timedelta(minutes=10))
    queued, leased, recent = session.execute(sa_select(queued, leased, recent)).one()
    if queued and recent:
        return busy  # sites come and go: look at the busy pace, not in a tight loop
    return busy if leased else None
