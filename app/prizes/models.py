"""Prize tables: the append-only award chain and the organisers' tie-break decisions.

`AwardRecord` rows form one hash chain per challenge (see `app.prizes.chain`): every award, forfeit,
re-run and publication carries the hash of the record before it. The ORM refuses to change or delete a
record; a change made behind its back (raw SQL) breaks a hash, and `flask prizes verify-chain` names it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from app.db import utcnow

KINDS = ("award", "forfeit", "rerun", "publish")


class AwardRecord(SQLModel, table=True):
    """One link of a challenge's award chain. ``payload`` is what was decided, hashed with ``prev_hash``.

    The payload repeats the kind, the sequence, the actor and the time, so the hash covers them too.
    """

    __tablename__ = "award_record"
    __table_args__ = (UniqueConstraint("challenge_id", "sequence"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    sequence: int  # 1, 2, 3... per challenge; unique, so two concurrent appends cannot fork the chain
    kind: str = Field(max_length=10)  # award | forfeit | rerun | publish
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    actor_id: Optional[int] = Field(default=None, foreign_key="user.id")


class PrizeTieBreak(SQLModel, table=True):
    """An organiser's decision that orders entries tied at the prize cut-off, with its justification.

    ``order`` lists team ids, best first; the latest decision of a challenge feeds the next preview.
    """

    __tablename__ = "prize_tie_break"

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    order: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    justification: str = Field(sa_column=Column(Text, nullable=False))
    decided_by_id: int = Field(foreign_key="user.id")
    decided_at: datetime = Field(default_factory=utcnow)


class PrizeRecordsAreAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an award record or a tie-break decision."""


def _refuse_update(_mapper, _connection, target) -> None:
    raise PrizeRecordsAreAppendOnly(f"{type(target).__name__} {target.id} cannot be changed")


def _refuse_delete(_mapper, _connection, target) -> None:
    raise PrizeRecordsAreAppendOnly(f"{type(target).__name__} {target.id} cannot be deleted")


for _model in (AwardRecord, PrizeTieBreak):
    event.listen(_model, "before_update", _refuse_update)
    event.listen(_model, "before_delete", _refuse_delete)
