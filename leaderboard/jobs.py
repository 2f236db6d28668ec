"""Scheduler steps of the leaderboard: recompute snapshots that changed (results, freeze, judging, the
challenge's end). Idempotent; its state is the snapshot rows."""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.ops.changes import announce
from app.settings import Settings
from leaderboard.services import refresh_all

log = logging.getLogger("lagc.leaderboard")


def refresh_leaderboards(session: Session, settings: Settings) -> None:
    """Recompute every stale, expired or out-of-date snapshot (a no-op when nothing changed); once the new
    snapshots are committed, tell every web worker (they drop the pages they keep)."""
    done = refresh_all(session, storage_dir=settings.storage_dir)
    for slug, audience, ms in done:
        log.info("leaderboard %s (%s) recomputed in %.0f ms", slug, audience, ms)
    session.commit()
    if done:
        announce(settings.instance_dir)


STEPS = [refresh_leaderboards]
