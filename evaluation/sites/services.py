"""The sites registry: register a site (its token shown once, only its sha256 kept), revoke it, list where
each stands, authenticate an agent and take its heartbeat.

A site serves one cluster profile (``cluster``: a shipped profile or one a challenge configures) and takes at
most ``max_jobs`` evaluations at once. It is online while its agent's heartbeats arrive within the lease time
(``LAGC_SITE_LEASE_SECONDS``); each heartbeat renews the leases the agent says it holds.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional

from sqlalchemy import bindparam, func, text, update
from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.db import utcnow
from evaluation.agent.protocol import TOKEN_PREFIX
from evaluation.clusters import default_profiles
from evaluation.models import Evaluation, EvaluationState as S, Site
from evaluation.sites.rules import aware as _aware, online

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
HELD = (S.dispatching, S.dispatched, S.running)  # the states of an evaluation a site holds
AGENT_KEYS = ("version", "host", "hub", "lock_sha256", "transport", "python")


class SiteError(ValueError):
    """A refusal about a site or a lease, in words; ``status`` is what the API answers."""

    def __init__(self, message: str, status: int = 422, field: str | None = None):
        super().__init__(message)
        self.status, self.field = status, field


def token_sha256(token: str) -> str:
    """What is stored of a site token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def known_clusters(session: Session) -> set[str]:
    """Cluster profile names a site may serve: the shipped ones and every challenge's ``[clusters.NAME]``."""
    names = set(default_profiles())
    for challenge in session.exec(select(Challenge)).all():
        try:
            names |= set(parse_section(config_of(challenge), "clusters") or {})
        except ValueError:
            continue  # a challenge whose configuration does not parse names no cluster
    return names


def get_site(session: Session, name: str) -> Optional[Site]:
    return session.exec(select(Site).where(Site.name == name)).first()


def add_site(
    session: Session, name: str, cluster: str, max_jobs: int = 4, now: Optional[datetime] = None
) -> tuple[Site, str]:
    """Register a site (or re-register a revoked one) with a new token; returns the site and the token, which
    is shown once. SiteError for a bad name, an unknown cluster or a site already registered."""
    now = now or utcnow()
    if not NAME.match(name or ""):
        raise SiteError(
            "a site name is 1 to 40 lower-case letters, digits and dashes, e.g. lumi or leonardo-1", field="name"
        )
    if cluster not in known_clusters(session):
        raise SiteError(
            f"no cluster profile {cluster!r}; known: {', '.join(sorted(known_clusters(session)))}", field="cluster"
        )
    if isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or not 1 <= max_jobs <= 10_000:
        raise SiteError("max_jobs must be a whole number from 1 to 10000", field="max_jobs")
    site = get_site(session, name)
    if site is not None and site.revoked_at is None:
        raise SiteError(f"site {name!r} is already registered; revoke it first to issue a new token", 409, "name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    if site is None:
        site = Site(name=name, cluster=cluster, max_jobs=max_jobs, token_sha256=token_sha256(token), created_at=now)
    else:
        site.cluster, site.max_jobs, site.token_sha256 = cluster, max_jobs, token_sha256(token)
        site.revoked_at, site.last_seen_at, site.agent = None, None, {}
    session.add(site)
    session.flush()
    record(session, "site.added", "site", site.name, cluster=cluster, max_jobs=max_jobs)
    return site, token


def site_for_token(session: Session, token: str) -> Optional[Site]:
    """The registered, unrevoked site of a token (None for anything else)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    site = session.execute(_BY_TOKEN, {"b_sha": token_sha256(token)}).scalars().first()
    return site if site is not None and site.revoked_at is None else None


def site_counts(session: Session, site_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{site id: {"running": n, "queued": n}}: its evaluations running, and those leased to it and not running
    yet (being staged, being submitted, waiting in the site's Slurm queue)."""
    ids = sorted(set(site_ids))
    counts = {site_id: {"running": 0, "queued": 0} for site_id in ids}
    if ids:
        rows = session.exec(
            select(Evaluation.site_id, Evaluation.state, func.count())
            .where(Evaluation.site_id.in_(ids), Evaluation.state.in_([s.value for s in HELD]))
            .group_by(Evaluation.site_id, Evaluation.state)
        ).all()
        for site_id, state, count in rows:
            counts[site_id]["running" if S(state) == S.running else "queued"] += int(count)
    return counts


def site_rows(session: Session, now: datetime, lease_seconds: float) -> list[dict[str, Any]]:
    """Every site as ``sites list`` prints it and the organisers' page shows it."""
    sites = session.exec(select(Site).order_by(Site.name)).all()
    counts = site_counts(session, [s.id for s in sites])
    return [
        {
            "site": s.name,
            "cluster": s.cluster,
            "state": "revoked"
            if s.revoked_at
            else "online"
            if online(_aware(s.last_seen_at), None, now, lease_seconds)
            else "offline",
            "last_seen": _aware(s.last_seen_at).isoformat() if s.last_seen_at else None,
            **counts[s.id],
            "max_jobs": s.max_jobs,
            "agent": dict(s.agent or {}),
        }
        for s in sites
    ]


# A heartbeat's statements, built once (each site sends one every few seconds: building them per call cost more
# than running them, bench/site_agent.py). None loads an evaluation's request.
HELD_STATES = [state.value for state in HELD]
_TOUCH = (
    update(Site)
    .where(Site.id == bindparam("b_site"))
    .values(last_seen_at=bindparam("b_now"), agent=bindparam("b_info"))
    .execution_options(synchronize_session=False)
)
_HELD = (
    select(Evaluation.id, Evaluation.attempt, Evaluation.state, Evaluation.cancel_requested, Evaluation.work_dir)
    .where(Evaluation.site_id == bindparam("b_site"), Evaluation.state.in_(HELD_STATES))
    .order_by(Evaluation.id)
)
_RENEW = (
    update(Evaluation)
    .where(
        Evaluation.id.in_(bindparam("b_ids", expanding=True)),
        Evaluation.site_id == bindparam("b_site"),
        Evaluation.state.in_(HELD_STATES),
    )
    .values(lease_expires_at=bindparam("b_until"))
    .execution_options(synchronize_session=False)
)
_NO_FSYNC = text("SET LOCAL synchronous_commit TO OFF")
_BY_TOKEN = select(Site).where(Site.token_sha256 == bindparam("b_sha"))


def heartbeat(
    session: Session,
    site: Site,
    agent: dict[str, Any],
    holding: Iterable[tuple[int, int]],
    now: datetime,
    lease_seconds: float,
) -> list[dict[str, Any]]:
    """The site is alive: remember when and which agent, renew the leases it holds (those it lists), and
    return a summary of every evaluation it holds."""
    info = {k: agent[k] for k in AGENT_KEYS if k in agent}
    if session.get_bind().dialect.name == "postgresql":
        # A heartbeat is a liveness hint renewed every few seconds: its commit need not wait for the disk
        # (a crash loses at most the last ones, as if they came late), which is most of its time under load.
        session.execute(_NO_FSYNC)
    session.execute(_TOUCH, {"b_site": site.id, "b_now": now, "b_info": info})
    held = {(int(ev_id), int(attempt)) for ev_id, attempt in holding}
    rows = session.execute(_HELD, {"b_site": site.id}).all()
    renew = [row.id for row in rows if (row.id, row.attempt) in held]
    if renew:
        session.execute(_RENEW, {"b_ids": renew, "b_site": site.id, "b_until": now + timedelta(seconds=lease_seconds)})
    return [
        {
            "evaluation_id": row.id,
            "attempt": row.attempt,
            "state": S(row.state).value,
            "cancel": bool(row.cancel_requested),
            "bound": row.work_dir is not None,
        }
        for row in rows
    ]


def held_by(session: Session, site: Site) -> list[Evaluation]:
    """The evaluations the site holds (leased to it and not finished), oldest first."""
    return list(
        session.exec(
            select(Evaluation)
            .where(Evaluation.site_id == site.id, Evaluation.state.in_([s.value for s in HELD]))
            .order_by(Evaluation.id)
        ).all()
    )
