"""Leaderboard snapshots: computed when results change (never per request), invalidated by `results_changed`,
and the organisers' freeze.

Audiences: ``public`` (hidden tasks withheld until the challenge's last phase ends; under a freeze, only what
existed at the freeze) and ``organiser`` (everything, live, judges' scores before publication). A snapshot's
ETag is the hash of its content, so a recomputation that changes nothing visible keeps the same ETag.
"""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select, update
from sqlmodel import Session

from app.audit.services import record
from app.challenges.models import Challenge, Phase
from app.checkpoints.models import Submission, SubmissionStatus
from app.db import utcnow
from evaluation.models import Evaluation, EvaluationState
from leaderboard import cache
from leaderboard.models import LeaderboardFreeze, LeaderboardSnapshot
from leaderboard.projection import project
from leaderboard.standings import standings

AUDIENCES = ("public", "organiser")


def results_changed(session: Session, challenge_id: int) -> None:
    """Mark the challenge's snapshots stale (in the caller's transaction): the scheduler's next cycle, or the
    first request after it, recomputes them. Call it whenever a result, submission or verdict changes."""
    session.execute(update(LeaderboardSnapshot).where(LeaderboardSnapshot.challenge_id == challenge_id)
                    .values(stale=True))
    cache.forget_heads()  # this worker sees it at once; the others within cache.HEAD_TTL


def active_freeze(session: Session, challenge_id: int) -> Optional[LeaderboardFreeze]:
    """The freeze in force (set and not lifted), if any; its ``frozen_at`` may still be ahead."""
    query = (select(LeaderboardFreeze).where(LeaderboardFreeze.challenge_id == challenge_id,
                                             LeaderboardFreeze.unfrozen_at.is_(None))
             .order_by(LeaderboardFreeze.id.desc()))
    return session.execute(query).scalars().first()


def freeze(session: Session, challenge: Challenge, at: datetime, by_id: int, reason: str = "") -> LeaderboardFreeze:
    """Freeze the public board at ``at`` (now or later), replacing a freeze in force; audited."""
    current = active_freeze(session, challenge.id)
    if current is not None:
        current.unfrozen_at, current.unfrozen_by_id = utcnow(), by_id
    row = LeaderboardFreeze(challenge_id=challenge.id, frozen_at=at, frozen_by_id=by_id, reason=reason[:500])
    session.add(row)
    session.flush()
    record(session, "leaderboard.frozen", "challenge", challenge.slug, actor_id=by_id,
           challenge_id=challenge.id, frozen_at=at.isoformat(), reason=reason[:500])
    results_changed(session, challenge.id)
    return row


def unfreeze(session: Session, challenge: Challenge, by_id: int) -> Optional[LeaderboardFreeze]:
    """Lift the freeze in force (None when there is none); audited."""
    current = active_freeze(session, challenge.id)
    if current is None:
        return None
    current.unfrozen_at, current.unfrozen_by_id = utcnow(), by_id
    record(session, "leaderboard.unfrozen", "challenge", challenge.slug, actor_id=by_id, challenge_id=challenge.id)
    results_changed(session, challenge.id)
    return current


def challenge_end(session: Session, challenge_id: int) -> Optional[datetime]:
    """When the challenge's last phase ends: hidden tasks become public from then on."""
    return session.execute(select(func.max(Phase.ends_at)).where(Phase.challenge_id == challenge_id)).scalar()


def watermark(session: Session, challenge: Challenge) -> str:
    """A fingerprint of everything the standings read, so a change nobody announced is still noticed."""
    ev = session.execute(select(func.count(Evaluation.id), func.max(Evaluation.id), func.max(Evaluation.finished_at))
                         .where(Evaluation.challenge_id == challenge.id,
                                Evaluation.state == EvaluationState.finished)).one()
    sub = session.execute(select(func.count(Submission.id), func.max(Submission.accepted_at))
                          .where(Submission.challenge_id == challenge.id,
                                 Submission.status == SubmissionStatus.accepted)).one()
    frozen = active_freeze(session, challenge.id)
    parts = [*ev, *sub, frozen.id if frozen else None, challenge.config_sha256[:12], _judging(session, challenge)]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _judging(session: Session, challenge: Challenge) -> str:
    """The judging state and a fingerprint of the sheets, when the judging feature is installed."""
    try:
        from app.judging.services import judges_scores, judging_state
    except ImportError:
        return ""
    scores = judges_scores(session, challenge, published_only=False)
    return judging_state(session, challenge) + ":" + repr(sorted((k, v.value) for k, v in scores.items()))


def recompute(session: Session, challenge: Challenge, audience: str, now: Optional[datetime] = None) -> LeaderboardSnapshot:
    """Compute and store the snapshot of one audience (inserting or updating its row); returns it."""
    started, now = time.perf_counter(), now or utcnow()
    mark = watermark(session, challenge)
    end = challenge_end(session, challenge.id)
    revealed = audience == "organiser" or (end is not None and end <= now)
    frozen = active_freeze(session, challenge.id) if audience == "public" else None
    key = _key(session, challenge, audience)
    board = standings(session, challenge, key=key, as_of=frozen.frozen_at if frozen else None,
                      judges_published_only=audience == "public")
    rows, meta = project(board, reveal_hidden=revealed)
    meta.update(audience=audience, frozen_at=frozen.frozen_at.isoformat() if frozen else None,
                challenge=challenge.slug, computed_at=now.isoformat())
    etag = hashlib.sha256(json.dumps([rows, {k: v for k, v in meta.items() if k != "computed_at"}],
                                     sort_keys=True, default=str).encode()).hexdigest()[:32]
    snapshot = _snapshot_row(session, challenge.id, audience)
    snapshot.computed_at, snapshot.etag, snapshot.watermark, snapshot.stale = now, etag, mark, False
    snapshot.valid_until = None if revealed or end is None else end
    snapshot.meta, snapshot.rows = meta, rows
    snapshot.compute_ms = (time.perf_counter() - started) * 1000
    session.flush()
    return snapshot


def _key(session: Session, challenge: Challenge, audience: str) -> str:
    """The ranking key: the final score once judging is published (for organisers, once any sheet is in)."""
    try:
        from app.judging.services import PUBLISHED, judging_state
    except ImportError:
        return "benchmark_score"
    return "final_score" if judging_state(session, challenge) == PUBLISHED else "benchmark_score"


def _snapshot_row(session: Session, challenge_id: int, audience: str) -> LeaderboardSnapshot:
    """The stored snapshot row of an audience, or a new one added to the session."""
    query = select(LeaderboardSnapshot).where(LeaderboardSnapshot.challenge_id == challenge_id,
                                              LeaderboardSnapshot.audience == audience)
    snapshot = session.execute(query).scalars().first()
    if snapshot is None:
        snapshot = LeaderboardSnapshot(challenge_id=challenge_id, audience=audience, etag="", watermark="")
        session.add(snapshot)
    return snapshot


def needs_recompute(snapshot: Optional[LeaderboardSnapshot], now: datetime) -> bool:
    """True when a snapshot is missing, marked stale or past its ``valid_until``."""
    return snapshot is None or snapshot.stale or (snapshot.valid_until is not None and snapshot.valid_until <= now)


def current_snapshot(session: Session, challenge: Challenge, audience: str) -> LeaderboardSnapshot:
    """The audience's snapshot, recomputed first (once, then committed) when it is missing, stale or expired."""
    query = select(LeaderboardSnapshot).where(LeaderboardSnapshot.challenge_id == challenge.id,
                                              LeaderboardSnapshot.audience == audience)
    snapshot = session.execute(query).scalars().first()
    if needs_recompute(snapshot, utcnow()):
        snapshot = recompute(session, challenge, audience)
        session.commit()
    return snapshot


def refresh_all(session: Session, now: Optional[datetime] = None) -> list[tuple[str, str, float]]:
    """Recompute every snapshot that is missing, stale, expired or whose watermark moved; returns
    (challenge slug, audience, milliseconds) for each one recomputed."""
    now = now or utcnow()
    done = []
    for challenge in session.execute(select(Challenge)).scalars().all():
        mark = None
        for audience in AUDIENCES:
            snapshot = session.execute(select(LeaderboardSnapshot).where(
                LeaderboardSnapshot.challenge_id == challenge.id,
                LeaderboardSnapshot.audience == audience)).scalars().first()
            mark = mark or watermark(session, challenge)
            if needs_recompute(snapshot, now) or snapshot.watermark != mark:
                snapshot = recompute(session, challenge, audience, now)
                done.append((challenge.slug, audience, snapshot.compute_ms))
    return done
