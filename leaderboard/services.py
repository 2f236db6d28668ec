"""Leaderboard snapshots: computed by the scheduler when their inputs change (never in a request), invalidated
by `results_changed` or noticed by the `watermark`; and the organisers' freeze.

Audiences: ``public`` (hidden tasks withheld until the challenge's last phase ends; counted as of the
competition's cut-off, the freeze: `evaluation.counted.cutoff`) and ``organiser`` (everything, live, judges'
scores before publication; the pages label it live). A snapshot's ETag is the hash of its content, so a
recomputation that changes nothing visible keeps the same ETag. A request that finds no snapshot says the
board is being prepared (`stored_snapshot` returns None); it never computes one.

A recomputation for 10,000 teams takes well under 2 seconds (`bench/leaderboard_load.py --profile` prints where
the time goes): the rows are serialised once with orjson (the ETag is the hash of the stored text, and each
entry's cells are a JSON fragment made once while its results stand), the old rows are never loaded to be
replaced, audiences that see the same standings share one computation (and what their projections have in
common), and the cyclic garbage collector waits until the recomputation is done (it would otherwise walk the
hundreds of thousands of fresh objects many times over); what the memos keep is a few objects per entry, so
its catch-up afterwards is short.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Optional

import orjson
from sqlalchemy import Text, case, func, select, type_coerce, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from app.audit.services import record
from app.challenges.models import Challenge, Phase
from app.checkpoints.models import Submission, SubmissionStatus
from app.db import utcnow
from app.judging.services import PUBLISHED, judges_scores, judging_state
from app.licences.models import LicenceResolution
from app.ops.steps import for_each
from app.teams.models import Team
from evaluation.counted import COMPETITION, LIVE, active_freeze, cutoff
from evaluation.models import CountedChoice, Evaluation, EvaluationState, LeaderboardFreeze
from leaderboard import cache
from leaderboard.models import LeaderboardSnapshot
from app.errors import Kind
from leaderboard.paired import (
    CompareError,
    board_comparisons,
    compare_entries,
    entry_of,
    public_comparisons,
    resolve_team,
    without_hidden,
)
from leaderboard.projection import project
from leaderboard.standings import board_entries, judges_of, rank_board, suite_of

AUDIENCES = ("public", "organiser")
VIEW_OF = {"public": COMPETITION, "organiser": LIVE}  # the cut-off each audience counts as of


def results_changed(session: Session, challenge_id: int) -> None:
    """Mark the challenge's snapshots stale (in the caller's transaction): the scheduler's next cycle
    recomputes them. Call it whenever a result, submission or verdict changes."""
    session.execute(
        update(LeaderboardSnapshot).where(LeaderboardSnapshot.challenge_id == challenge_id).values(stale=True)
    )
    cache.forget_heads()  # this worker sees it at once; the others within cache.HEAD_TTL


def freeze(session: Session, challenge: Challenge, at: datetime, by_id: int, reason: str = "") -> LeaderboardFreeze:
    """Freeze the public board at ``at`` (now or later), replacing a freeze in force; audited."""
    current = active_freeze(session, challenge.id)
    if current is not None:
        current.unfrozen_at, current.unfrozen_by_id = utcnow(), by_id
    row = LeaderboardFreeze(challenge_id=challenge.id, frozen_at=at, frozen_by_id=by_id, reason=reason[:500])
    session.add(row)
    session.flush()
    record(
        session,
        "leaderboard.frozen",
        "challenge",
        challenge.slug,
        actor_id=by_id,
        challenge_id=challenge.id,
        frozen_at=at.isoformat(),
        reason=reason[:500],
    )
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
    ended = case((Evaluation.state.in_((EvaluationState.failed, EvaluationState.cancelled)), 1), else_=0)
    ev = session.execute(
        select(
            func.count(Evaluation.id),
            func.max(Evaluation.id),
            func.max(Evaluation.finished_at),
            func.sum(case((Evaluation.state == EvaluationState.finished, 1), else_=0)),
            func.sum(ended),
            func.count(Evaluation.retry_at),
        ).where(Evaluation.challenge_id == challenge.id)
    ).one()
    sub = session.execute(
        select(func.count(Submission.id), func.max(Submission.accepted_at)).where(
            Submission.challenge_id == challenge.id, Submission.status == SubmissionStatus.accepted
        )
    ).one()
    chosen = session.execute(
        select(func.count(CountedChoice.id), func.max(CountedChoice.id)).where(
            CountedChoice.challenge_id == challenge.id
        )
    ).one()
    frozen = active_freeze(session, challenge.id)
    parts = [
        *ev,
        *sub,
        *chosen,
        frozen.id if frozen else None,
        challenge.config_sha256[:12],
        _judging(session, challenge),
        _licence_resolutions(session, challenge),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _licence_resolutions(session: Session, challenge: Challenge) -> tuple:
    """(count, newest id) of the organisers' licence resolutions in the challenge (the board shows the verdict
    in force, `app.licences.services.verdicts_in_force`)."""
    return tuple(
        session.execute(
            select(func.count(LicenceResolution.id), func.max(LicenceResolution.id))
            .join(Submission, Submission.id == LicenceResolution.submission_id)
            .where(Submission.challenge_id == challenge.id)
        ).one()
    )


def _judging(session: Session, challenge: Challenge) -> str:
    """The judging state and a fingerprint of the sheets."""
    scores = judges_scores(session, challenge, published_only=False)
    return judging_state(session, challenge) + ":" + repr(sorted((k, v.value) for k, v in scores.items()))


class Stopwatch:
    """Wall and CPU time per named step of a recomputation (``bench/leaderboard_load.py --profile``)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float, float]] = []
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        """Close the step ``name``, started at the previous lap (or at creation)."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.steps.append((name, wall - self._wall, cpu - self._cpu))
        self._wall, self._cpu = wall, cpu


def recompute(
    session: Session,
    challenge: Challenge,
    audience: str,
    now: Optional[datetime] = None,
    watch: Optional[Stopwatch] = None,
    storage_dir: Optional[Path] = None,
) -> LeaderboardSnapshot:
    """Compute and store the snapshot of one audience (inserting or updating its row); returns it."""
    return recompute_audiences(session, challenge, (audience,), now, watch, storage_dir)[audience]


def recompute_audiences(
    session: Session,
    challenge: Challenge,
    audiences: Sequence[str],
    now: Optional[datetime] = None,
    watch: Optional[Stopwatch] = None,
    storage_dir: Optional[Path] = None,
) -> dict:
    """Compute and store the snapshots of ``audiences``; returns {audience: snapshot}.

    With ``storage_dir`` (the scheduler's), each ranked row also carries its paired comparisons with the next
    ranked entry and with each baseline (`leaderboard.paired.board_comparisons`), from the kept samples.

    The inputs are read once per distinct cut-off (the public board's freeze), and the standings are
    computed once per distinct (cut-off, judges' scores): without a freeze and with judging published (or
    no sheets yet), the organisers' board is the public one with the hidden tasks shown.
    """
    with _collector_paused():  # everything the computation allocates is freed before the collector resumes
        done = _recompute_audiences(session, challenge, audiences, now or utcnow(), watch or Stopwatch(), storage_dir)
    cache.forget_heads()  # this process serves the new snapshots at once (web workers within cache.HEAD_TTL)
    return done


def _recompute_audiences(
    session: Session,
    challenge: Challenge,
    audiences: Sequence[str],
    now: datetime,
    watch: Stopwatch,
    storage_dir: Optional[Path],
) -> dict:
    """`recompute_audiences`, inside the pause of the garbage collector."""
    mark = watermark(session, challenge)
    end = challenge_end(session, challenge.id)
    key = _key(session, challenge)
    watch.lap("inputs")
    entries: dict = {}
    boards: list = []
    done, started = {}, time.perf_counter()
    frozen = active_freeze(session, challenge.id)
    for audience in audiences:
        as_of = cutoff(session, challenge.id, VIEW_OF[audience])
        judges, published = judges_of(session, challenge, audience == "public")
        if as_of not in entries:
            entries[as_of] = board_entries(session, challenge, as_of)
            watch.lap("read rows")
        board = next((b for a, j, p, b in boards if (a, j, p) == (as_of, judges, published)), None)
        if board is None:
            board = rank_board(challenge, entries[as_of], judges, published, key=key, as_of=as_of)
            boards.append((as_of, judges, published, board))
            watch.lap("score and rank")
            if storage_dir is not None:
                board.derived["paired"] = board_comparisons(session, board.table, board.suite, storage_dir)
                watch.lap("paired comparisons")
        revealed = audience == "organiser" or (end is not None and end <= now)
        done[audience] = _store(
            session,
            challenge,
            audience,
            board,
            revealed,
            frozen if VIEW_OF[audience] == COMPETITION else None,
            mark,
            end,
            now,
            started,
            watch,
        )
        started = time.perf_counter()
    return done


def _store(
    session: Session,
    challenge: Challenge,
    audience: str,
    board,
    revealed: bool,
    frozen: Optional[LeaderboardFreeze],
    mark: str,
    end: Optional[datetime],
    now: datetime,
    started: float,
    watch: Stopwatch,
) -> LeaderboardSnapshot:
    """Project ``board`` for ``audience``, serialise it once and write it to the audience's snapshot row."""
    rows, meta = project(board, reveal_hidden=revealed)
    paired = board.derived.get("paired")
    if paired is not None:  # each ranked row: distinguishable from the next one down? (and vs each baseline)
        hidden = () if revealed else tuple(task.name for task in board.suite if task.hidden)
        for row in rows:
            row["paired"] = public_comparisons(paired.get(row["position"]), hidden)
        meta["paired"] = True
    meta.update(
        audience=audience,
        frozen_at=frozen.frozen_at.isoformat() if frozen else None,
        challenge=challenge.slug,
        computed_at=now.isoformat(),
    )
    watch.lap(f"project {audience}")
    rows_json = orjson.dumps(rows, default=str)  # plain data; a non-finite number is written as null
    shown = orjson.dumps(
        {k: v for k, v in meta.items() if k != "computed_at"}, default=str, option=orjson.OPT_SORT_KEYS
    )
    etag = hashlib.sha256(rows_json + b"\n" + shown).hexdigest()[:32]
    rows_text = rows_json.decode()
    watch.lap(f"serialise {audience}")
    snapshot = _snapshot_row(session, challenge.id, audience)
    values = {
        "computed_at": now,
        "etag": etag,
        "watermark": mark,
        "stale": False,
        "valid_until": None if revealed or end is None else end,
        "meta": meta,
        "compute_ms": (time.perf_counter() - started) * 1000,
    }
    session.execute(
        update(LeaderboardSnapshot)
        .where(LeaderboardSnapshot.id == snapshot.id)
        .values(**values, rows=type_coerce(rows_text, Text()))
    )  # serialised already
    for name, value in values.items():  # what was written, without writing it again
        set_committed_value(snapshot, name, value)
    session.expire(snapshot, ["rows"])  # loaded again only if read: holding 10,000 rows here costs more
    watch.lap(f"store {audience}")
    return snapshot


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off for a recomputation (reference counting still frees memory)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _key(session: Session, challenge: Challenge) -> str:
    """The ranking key: the final score once judging is published."""
    return "final_score" if judging_state(session, challenge) == PUBLISHED else "benchmark_score"


def _snapshot_row(session: Session, challenge_id: int, audience: str) -> LeaderboardSnapshot:
    """The stored snapshot row of an audience, or a new one added to the session."""
    snapshot = _find_snapshot(session, challenge_id, audience)
    if snapshot is None:
        snapshot = LeaderboardSnapshot(challenge_id=challenge_id, audience=audience, etag="", watermark="")
        session.add(snapshot)
        session.flush()
    return snapshot


def _find_snapshot(session: Session, challenge_id: int, audience: str) -> Optional[LeaderboardSnapshot]:
    """The stored snapshot row of an audience, its rows and meta left unread until used (10,000 rows of JSON
    take longer to parse than to compute)."""
    query = (
        select(LeaderboardSnapshot)
        .options(defer(LeaderboardSnapshot.rows), defer(LeaderboardSnapshot.meta))
        .where(LeaderboardSnapshot.challenge_id == challenge_id, LeaderboardSnapshot.audience == audience)
    )
    return session.execute(query).scalars().first()


def needs_recompute(snapshot: Optional[LeaderboardSnapshot], now: datetime) -> bool:
    """True when a snapshot is missing, marked stale or past its ``valid_until``."""
    return snapshot is None or snapshot.stale or (snapshot.valid_until is not None and snapshot.valid_until <= now)


def stored_snapshot(session: Session, challenge_id: int, audience: str) -> Optional[LeaderboardSnapshot]:
    """The audience's stored snapshot as the scheduler last wrote it (stale or expired ones included: the next
    scheduler cycle replaces them within seconds), or None before its first computation. Never computes."""
    return _find_snapshot(session, challenge_id, audience)


def refresh_all(
    session: Session, now: Optional[datetime] = None, storage_dir: Optional[Path] = None
) -> list[tuple[str, str, float]]:
    """Recompute every snapshot that is missing, stale, expired or whose watermark moved; returns
    (challenge slug, audience, milliseconds) for each one recomputed. ``storage_dir``: where the kept
    per-item results are, for the rows' paired comparisons (the scheduler passes its storage)."""
    now = now or utcnow()
    done = []

    def refresh(challenge: Challenge) -> None:
        mark = watermark(session, challenge)
        due = []
        for audience in AUDIENCES:
            snapshot = _find_snapshot(session, challenge.id, audience)
            if needs_recompute(snapshot, now) or snapshot.watermark != mark:
                due.append(audience)
        if due:
            snapshots = recompute_audiences(session, challenge, due, now, storage_dir=storage_dir)
            done.extend((challenge.slug, audience, snapshots[audience].compute_ms) for audience in due)

    # One challenge whose board cannot be computed must not keep the other boards stale.
    for_each(session, session.execute(select(Challenge)).scalars().all(), refresh, what="leaderboard of challenge")
    return done


def compare_for(
    session: Session,
    challenge: Challenge,
    entry_a: Optional[str],
    entry_b: Optional[str],
    storage_dir: Path,
    *,
    everything: bool,
    seed: int = 0,
    now: Optional[datetime] = None,
) -> dict:
    """Two entries (team id or exact team name) compared item by item, as an audience may see it: the public
    compares what the public board counts (as of the freeze in force) with the hidden tasks' own numbers
    withheld until the challenge ends (they still count in the overall, as in the score); judges and
    organisers (``everything``) compare what counts now, every task shown. CompareError says why not."""
    suite = suite_of(challenge)
    if not suite:
        raise CompareError(Kind.conflict, f"Challenge {challenge.slug} has no benchmark suite to compare entries on.")
    teams = session.execute(select(Team.id, Team.name).where(Team.challenge_id == challenge.id).order_by(Team.id)).all()
    a, b = resolve_team(teams, entry_a, "a"), resolve_team(teams, entry_b, "b")
    if a[0] == b[0]:
        raise CompareError(
            Kind.invalid, "Name two different entries: an entry compared with itself differs by nothing."
        )
    as_of = cutoff(session, challenge.id, LIVE if everything else COMPETITION)
    end = challenge_end(session, challenge.id)
    revealed = everything or (end is not None and end <= (now or utcnow()))
    hidden = () if revealed else tuple(t.name for t in suite if t.hidden)
    try:
        body = compare_entries(
            entry_of(session, challenge, a, as_of),
            entry_of(session, challenge, b, as_of),
            suite,
            storage_dir,
            hidden=hidden,
            seed=seed,
        )
    except CompareError as exc:  # a refusal may name a hidden task
        raise CompareError(exc.kind, without_hidden(exc.detail, hidden)) from None
    body.update(challenge=challenge.slug, as_of=None if as_of is None else as_of.isoformat())
    return body
