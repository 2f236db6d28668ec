"""Per-worker caches that keep the public board cheap to serve.

- ``head``: which snapshot a challenge's board shows now (its ETag, time and freshness): one indexed query,
  re-read at most once per ``HEAD_TTL`` seconds per worker, and at once when `app.ops.changes.generation`
  moves (the scheduler announced new snapshots, or this process committed a change).
- ``snapshot_data``: the parsed rows of a snapshot, by ETag (parsed once per worker per change).
- ``pages``: rendered bodies keyed by (ETag, representation, query string): repeat views cost a dict lookup.

Keys carry the snapshot's ETag, which is the hash of what it shows, so nothing outlives a change:
`leaderboard.services.results_changed` marks the snapshot stale and clears this worker's heads at once;
the scheduler announces the new snapshot it stores to every worker (`app.ops.changes.announce`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy import and_, select
from sqlmodel import Session

from app.challenges.models import Challenge
from leaderboard.models import LeaderboardSnapshot

HEAD_TTL = 1.0


class Lru:
    """A small thread-safe least-recently-used mapping."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Any, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class Head:
    """A challenge and the state of one audience's snapshot (etag None when there is none yet)."""

    challenge_id: int
    slug: str
    name: str
    etag: Optional[str]
    stale: bool
    valid_until: Optional[datetime]
    computed_at: Optional[datetime] = None

    def fresh(self, now: datetime) -> bool:
        """True when the snapshot exists, is not stale and has not expired."""
        return self.etag is not None and not self.stale and (self.valid_until is None or self.valid_until > now)


_heads = Lru(256)
pages = Lru(512)
_data = Lru(8)


def head(
    session: Session, engine_key: str, slug: Optional[str], audience: str = "public", generation: tuple = ()
) -> Optional[Head]:
    """The challenge ``slug`` (or the newest challenge when None) and its snapshot state; cached ~1 s, and
    only while ``generation`` (`app.ops.changes.generation`) stays the same."""
    key = (engine_key, slug, audience)
    cached = _heads.get(key)
    if cached is not None and cached[2] == generation and time.monotonic() - cached[0] < HEAD_TTL:
        return cached[1]
    join = and_(LeaderboardSnapshot.challenge_id == Challenge.id, LeaderboardSnapshot.audience == audience)
    query = select(
        Challenge.id,
        Challenge.slug,
        Challenge.name,
        LeaderboardSnapshot.etag,
        LeaderboardSnapshot.stale,
        LeaderboardSnapshot.valid_until,
        LeaderboardSnapshot.computed_at,
    ).outerjoin(LeaderboardSnapshot, join)
    query = query.where(Challenge.slug == slug) if slug else query.order_by(Challenge.call_date.desc(), Challenge.slug)
    row = session.execute(query.limit(1)).first()
    found = None if row is None else Head(row[0], row[1], row[2], row[3] or None, bool(row[4]), row[5], row[6])
    _heads.put(key, (time.monotonic(), found, generation))
    return found


def snapshot_data(
    session: Session,
    challenge_id: int,
    audience: str,
    etag: str,
    load: Callable[[], Optional[LeaderboardSnapshot]] | None = None,
) -> Optional[tuple[list, dict]]:
    """(rows, meta) of the snapshot with ``etag``, parsed once per worker; None if it changed meanwhile."""
    cached = _data.get((challenge_id, audience, etag))
    if cached is not None:
        return cached
    snapshot = (
        load()
        if load
        else session.execute(
            select(LeaderboardSnapshot).where(
                LeaderboardSnapshot.challenge_id == challenge_id, LeaderboardSnapshot.audience == audience
            )
        )
        .scalars()
        .first()
    )
    if snapshot is None or snapshot.etag != etag:
        return None
    meta = {**snapshot.meta, "etag": snapshot.etag}
    return _data.put((challenge_id, audience, etag), (snapshot.rows, meta))


def forget_heads() -> None:
    """Drop this worker's heads (after a change made in this process)."""
    _heads.clear()


def clear() -> None:
    """Drop everything (tests)."""
    _heads.clear()
    pages.clear()
    _data.clear()
