"""Storing and reading a challenge's award chain: append a record, verify the chain, find the current award.

The hashing rules are the pure `app.prizes.chain`; this module turns `AwardRecord` rows into its
`ChainRecord` values. Each payload repeats the record's kind, sequence, challenge, actor and time, so the
hash covers them, and a column that no longer matches its payload counts as an edit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.accounts.models import User
from app.challenges.models import Challenge
from app.db import lock_row
from app.errors import DomainError, Kind
from app.prizes.chain import ChainCheck, ChainRecord, next_record, verify_chain
from app.prizes.models import KINDS, AwardRecord

AWARD_KINDS = ("award", "rerun")


class PrizeError(DomainError):
    """An award act the platform refuses: its kind (not found, conflict, invalid), a message, and the field at
    fault."""

    def __init__(self, kind: Kind, message: str, field: Optional[str] = None):
        super().__init__(message, kind=kind, field=field)


def hold_chain(session: Session, challenge: Challenge) -> None:
    """Take the challenge's row lock (`app.db.lock_row`) before an award act reads the chain: acts take turns,
    each seeing the chain as the one before left it, so twenty confirmations at once record one award (on
    PostgreSQL a second one would otherwise read the first's committed record and chain a second award after
    it) and the others are refused with 409."""
    lock_row(session, Challenge, challenge.id)


def chain_of(session: Session, challenge_id: int) -> list[AwardRecord]:
    """The challenge's award records, in chain order."""
    query = select(AwardRecord).where(AwardRecord.challenge_id == challenge_id).order_by(AwardRecord.sequence)
    return list(session.exec(query).all())


def _label(row: AwardRecord) -> str:
    """How a record is named in messages: its sequence and kind as recorded (the columns may be edited)."""
    payload = row.payload if isinstance(row.payload, dict) else {}
    return f"#{payload.get('sequence', row.sequence)} {payload.get('kind', row.kind)}"


def as_chain(rows: list[AwardRecord]) -> list[ChainRecord]:
    """The rows as the pure chain sees them."""
    return [ChainRecord(_label(row), row.payload, row.prev_hash, row.hash) for row in rows]


def append(
    session: Session, challenge: Challenge, kind: str, body: dict[str, Any], actor: Optional[User], now: datetime
) -> AwardRecord:
    """Add the next record of the chain (the caller commits); the payload is ``body`` plus who, what, when.

    Two organisers appending at once collide on the unique (challenge, sequence) and one of them fails.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown award record kind {kind!r}")
    rows = chain_of(session, challenge.id)
    sequence = rows[-1].sequence + 1 if rows else 1
    payload = {
        **body,
        "kind": kind,
        "sequence": sequence,
        "challenge": challenge.slug,
        "actor_id": actor.id if actor else None,
        "actor": actor.email if actor else "system",
        "at": now.isoformat(),
    }
    link = next_record(as_chain(rows), f"#{sequence} {kind}", payload)
    row = AwardRecord(
        challenge_id=challenge.id,
        sequence=sequence,
        kind=kind,
        payload=link.payload,
        prev_hash=link.prev_hash,
        hash=link.hash,
        created_at=now,
        actor_id=actor.id if actor else None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise PrizeError(
            Kind.conflict,
            "Another organiser recorded an award step at the same moment; reload the page "
            "and review it before acting again.",
        ) from None
    return row


def check(session: Session, challenge: Challenge) -> ChainCheck:
    """Verify the challenge's chain: every hash, every link, and that each column matches its payload."""
    rows = chain_of(session, challenge.id)
    result = verify_chain(as_chain(rows))
    if not result.ok:
        return result
    for index, row in enumerate(rows):
        payload = row.payload if isinstance(row.payload, dict) else {}
        facts = {"kind": row.kind, "sequence": row.sequence, "challenge": challenge.slug}
        changed = [name for name, value in facts.items() if payload.get(name) != value]
        if changed:
            return ChainCheck(
                False,
                [
                    f"record {index} ({_label(row)!r}): its {', '.join(changed)} column "
                    "no longer matches what was recorded (edited record)"
                ],
            )
    return result


def current_award(rows: list[AwardRecord]) -> Optional[AwardRecord]:
    """The award in force: the latest record of kind award or rerun."""
    return next((row for row in reversed(rows) if row.kind in AWARD_KINDS), None)


def published_award(rows: list[AwardRecord]) -> Optional[AwardRecord]:
    """The award the latest publish record made public, or None before any publication."""
    publication = next((row for row in reversed(rows) if row.kind == "publish"), None)
    if publication is None:
        return None
    wanted = publication.payload.get("award_sequence")
    return next((row for row in rows if row.sequence == wanted), None)


def forfeit_records(rows: list[AwardRecord]) -> dict[int, AwardRecord]:
    """Team id -> the first forfeit record naming it."""
    found: dict[int, AwardRecord] = {}
    for row in rows:
        if row.kind == "forfeit":
            found.setdefault(int(row.payload.get("team_id", 0)), row)
    return found
