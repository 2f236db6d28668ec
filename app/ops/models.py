"""Operational state shared between processes: the scheduler's lease and heartbeat, how each scheduler step
fares, and the identifier that tells this platform instance's cluster jobs from another's."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class SchedulerLease(SQLModel, table=True):
    """One row per lease name; a scheduler holds it while `expires_at` is in the future and renews it."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    last_cycle_ms: Optional[float] = None


class PlatformInstance(SQLModel, table=True):
    """One row: this instance's short identifier, made once when its database is first migrated (or first
    asked for), and put in every Slurm job's name, so two instances sharing a cluster account (staging and
    production, two test runs whose evaluation ids both start at 1) never take each other's jobs."""

    __tablename__ = "platform_instance"

    id: int = Field(default=1, primary_key=True)
    identifier: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class SchedulerStep(SQLModel, table=True):
    """How one scheduler step fares, written by the scheduler after each of its runs (`app.ops.steps`) and read
    by `/readyz` (a step that keeps failing) and `/metrics` (runs, failures, last success per step)."""

    __tablename__ = "scheduler_step"

    name: str = Field(primary_key=True, max_length=160)  # module.function: app.checkpoints.jobs.complete_submissions
    runs_total: int = 0
    failures_total: int = 0  # runs that raised or in which an item failed
    item_failures_total: int = 0  # items that failed (each rolled back alone; the others went on)
    consecutive_failures: int = 0  # failing runs since the last run without a failure
    last_run_at: Optional[datetime] = None
    last_success_at: Optional[datetime] = None
    last_failure_at: Optional[datetime] = None
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
