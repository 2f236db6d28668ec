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


class RateCounter(SQLModel, table=True):
    """Fixed-window request counters shared by every web worker (key: rule and who, e.g. sign-in:ip:1.2.3.4)."""

    key: str = Field(primary_key=True, max_length=200)
    window_start: int  # unix seconds at the window's start
    count: int = Field(default=0)
