"""Writing audit events."""

from __future__ import annotations

from typing import Any, Optional

from sqlmodel import Session

from app.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    subject_type: str,
    subject_id: Any = None,
    *,
    actor_id: Optional[int] = None,
    challenge_id: Optional[int] = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    event = AuditEvent(
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        actor_id=actor_id,
        challenge_id=challenge_id,
        details=details,
    )
    session.add(event)
    return event
