"""The rules of leasing evaluations to sites, as pure functions over plain data (no database, clock or process).

- A site is **online** while its agent's last heartbeat is younger than the lease time.
- Each queued evaluation, in queue order, goes to an online site serving one of its challenge's clusters
  (the challenge's order is its preference), under that cluster's concurrency, the team's GPU-hour
  allocation there (the same rule as the scheduler's, ``policy.allocation_fit``), the site's ``max_jobs``
  and the evaluation's **placement** (must / must not run at named sites: the hook a re-evaluation at
  another site uses). Among the sites that fit, the least loaded takes it (ties by name).
- A lease expires unless heartbeats renew it; only a lease whose job was never submitted may then go back
  to the queue (``releasable``): a job that may exist at a site stays with that site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from evaluation.policy import GO, NEVER, Candidate, allocation_fit, take


@dataclass(frozen=True)
class Placement:
    """Where one evaluation may run: only at ``only`` (None: anywhere), never at ``exclude``. Stored in the
    evaluation's request as ``{"placement": {"only": [...], "exclude": [...]}}``."""

    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    @classmethod
    def from_request(cls, request: Mapping[str, Any]) -> "Placement":
        """The placement a request pins (anywhere when it pins none)."""
        found = request.get("placement") or {}
        only = found.get("only")
        return cls(frozenset(only) if only is not None else None, frozenset(found.get("exclude") or ()))

    def to_dict(self) -> dict[str, list[str]]:
        """Plain data for the request (only what restricts)."""
        out: dict[str, list[str]] = {}
        if self.only is not None:
            out["only"] = sorted(self.only)
        if self.exclude:
            out["exclude"] = sorted(self.exclude)
        return out

    def allows(self, site: str) -> bool:
        """Whether the evaluation may run at this site."""
        return site not in self.exclude and (self.only is None or site in self.only)


@dataclass(frozen=True)
class SiteSlot:
    """An online site as the dispatcher sees it: the cluster it serves and how many more jobs it may take."""

    site_id: int
    name: str
    cluster: str
    free: int  # max_jobs minus the evaluations it holds


@dataclass(frozen=True)
class SiteCandidate:
    """A queued site evaluation: one ``Candidate`` per cluster it may run on (its challenge's order), each with
    that cluster's concurrency, the team's allocation there and the job's worst case there."""

    evaluation_id: int
    team_id: int
    options: tuple[Candidate, ...]
    placement: Placement = Placement()


@dataclass(frozen=True)
class Assignment:
    """Lease this evaluation to this site, on this cluster."""

    evaluation_id: int
    site_id: int
    cluster: str


def plan_site_dispatch(
    candidates: Sequence[SiteCandidate],
    slots: Sequence[SiteSlot],
    active: Mapping[str, int],
    used: Mapping[tuple[int, str], float],
    reserved: Mapping[tuple[int, str], float],
) -> tuple[list[Assignment], list[int]]:
    """(leases to grant now, ids no allocation on any of their clusters can ever cover), first come first
    served; an evaluation nothing can take now simply waits."""
    running, held = dict(active), dict(reserved)
    free = {slot.site_id: slot.free for slot in slots}
    granted, exhausted = [], []
    for c in candidates:
        fits = [(option, allocation_fit(option, used, held)) for option in c.options]
        if fits and all(fit == NEVER for _, fit in fits):
            exhausted.append(c.evaluation_id)
            continue
        for option, fit in fits:
            if fit != GO or running.get(option.cluster, 0) >= option.limit:
                continue
            site = _least_loaded(
                [
                    s
                    for s in slots
                    if s.cluster == option.cluster and free[s.site_id] > 0 and c.placement.allows(s.name)
                ],
                free,
            )
            if site is not None:
                take(option, running, held)
                free[site.site_id] -= 1
                granted.append(Assignment(c.evaluation_id, site.site_id, option.cluster))
                break
    return granted, exhausted


def _least_loaded(slots: Sequence[SiteSlot], free: Mapping[int, int]) -> SiteSlot | None:
    return min(slots, key=lambda s: (-free[s.site_id], s.name), default=None)


def online(last_seen_at: datetime | None, revoked_at: datetime | None, now: datetime, lease_seconds: float) -> bool:
    """Whether a site counts as online: not revoked, and heard from within the lease time."""
    return revoked_at is None and last_seen_at is not None and now - last_seen_at <= timedelta(seconds=lease_seconds)


def releasable(state: str, work_dir: str | None, lease_expires_at: datetime | None, now: datetime) -> bool:
    """Whether an expired lease goes back to the queue: only while its job was never submitted (the agent had
    not said it was submitting: no job folder), never a job that may exist at the site."""
    return state == "dispatching" and work_dir is None and lease_expires_at is not None and lease_expires_at < now


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as timezone-aware UTC (SQLite hands back naive datetimes)."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment
