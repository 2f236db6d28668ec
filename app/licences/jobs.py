"""Scheduler steps of the licence feature: release obligations past their deadline become overdue."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session

from app.db import utcnow
from app.licences.obligations import mark_overdue
from app.settings import Settings


def mark_overdue_obligations(session: Session, settings: Settings, now: Optional[datetime] = None) -> int:
    """Mark pending release obligations past their deadline as overdue; idempotent, each one audited."""
    return len(mark_overdue(session, now or utcnow()))


STEPS = [mark_overdue_obligations]
