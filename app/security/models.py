"""The rate limiter's state, shared by every web worker."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RateCounter(SQLModel, table=True):
    """Fixed-window request counters shared by every web worker (key: rule and who, e.g. sign-in:ip:1.2.3.4)."""

    key: str = Field(primary_key=True, max_length=200)
    window_start: int  # unix seconds at the window's start
    count: int = Field(default=0)
