"""Challenge phases advance at their deadlines: one ``phase.opened`` / ``phase.closed`` audit event per boundary.

The phases' dates are the state (the current phase is whichever contains now); the audit events are the
record that a boundary was crossed, written once. Between boundaries the step asks the database nothing:
it remembers the next boundary in the process, and looks again at least every ``RECHECK`` (a challenge
file may have been reloaded with new dates).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.audit.services import record
from app.challenges.gating import next_boundary, phase_boundaries
from app.challenges.models import Phase
from app.db import utcnow
from app.ops.steps import for_each
from app.settings import Settings

RECHECK = timedelta(seconds=30)
_memo: dict[str, Optional[datetime]] = {"next": None, "checked": None}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def record_phase_events(session: Session, settings: Settings, now: Optional[datetime] = None) -> int:
    """Write the missing phase events up to now; returns how many were written. Idempotent.

    A challenge loaded long after its dates gets every past boundary recorded once, in time order."""
    remembered = now is None  # an explicit `now` (tests, backfills) always looks at the database
    now = now or utcnow()
    upcoming, checked = _memo["next"], _memo["checked"]
    if remembered and checked is not None and now - checked < RECHECK and (upcoming is None or now < upcoming):
        return 0
    phases = session.exec(select(Phase)).all()
    done = {
        (e.challenge_id, e.subject_id, e.action)
        for e in session.exec(
            select(AuditEvent).where(
                AuditEvent.action.in_(["phase.opened", "phase.closed"]), AuditEvent.subject_type == "phase"
            )
        ).all()
    }
    written = [0]
    by_challenge: dict[int, list[Phase]] = {}
    for phase in phases:
        by_challenge.setdefault(phase.challenge_id, []).append(phase)

    def boundaries_of(challenge: tuple[int, list[Phase]]) -> None:
        challenge_id, items = challenge
        spans = [(p.key, _aware(p.starts_at), _aware(p.ends_at)) for p in items]
        for key, action in phase_boundaries(spans, now):
            if (challenge_id, key, action) not in done:
                record(session, action, "phase", key, challenge_id=challenge_id)
                written[0] += 1

    for_each(
        session, list(by_challenge.items()), boundaries_of, key=lambda item: item[0], what="phase events of challenge"
    )
    spans = [(p.key, _aware(p.starts_at), _aware(p.ends_at)) for p in phases]
    _memo.update(next=next_boundary(spans, now), checked=now)
    return written[0]


STEPS = [record_phase_events]
