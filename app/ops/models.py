"""Operational state shared between processes: the scheduler's lease and heartbeat."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel


class SchedulerLease(SQLModel, table=True):
    """One row per lease name; a scheduler holds it while `expires_at` is in the future and renews it."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    last_cycle_ms: Optional[float] = None
