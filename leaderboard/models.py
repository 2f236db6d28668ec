"""Leaderboard tables: precomputed snapshots (what each audience may see). The organisers' freeze is the
competition's cut-off, read by judging and prizes too: `evaluation.models.LeaderboardFreeze`."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import json

import orjson
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.db import utcnow


class JSONText(TypeDecorator):
    """JSON kept as text, written and read with orjson. A snapshot's rows are 13 MB of JSON for 10,000 teams:
    orjson parses them 4 times faster than the json module, and as text PostgreSQL neither validates them on
    every write nor hands them to a JSON parser of the driver's. Text written by the json module before (which
    may hold NaN, which orjson refuses) is read with the json module."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return json.loads(value)


class LeaderboardSnapshot(SQLModel, table=True):
    """The ranked rows one audience may see, computed when results change, never per request.

    audience: ``public`` (hidden tasks removed until the challenge ends, results after a freeze left out) or
    ``organiser`` (everything, live). ``stale`` is set by `leaderboard.services.results_changed`; the
    scheduler (or the first request that finds it stale) recomputes. ``valid_until`` is when the snapshot
    expires by itself (the challenge's end, when hidden tasks are revealed). ``watermark`` fingerprints the
    results it was computed from, so a result that lands without a `results_changed` call is noticed too.
    """

    __table_args__ = (UniqueConstraint("challenge_id", "audience"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    audience: str = Field(max_length=12)
    computed_at: datetime = Field(default_factory=utcnow)
    etag: str = Field(max_length=64)
    watermark: str = Field(max_length=200)
    stale: bool = Field(default=False)
    valid_until: Optional[datetime] = None
    compute_ms: float = Field(default=0.0)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rows: list = Field(default_factory=list, sa_column=Column(JSONText, nullable=False))
