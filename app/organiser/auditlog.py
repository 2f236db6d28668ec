"""Searching and exporting the audit log: by challenge, action prefix, actor, subject and date range."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator, Optional

from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.csvfile import csv_text

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # one export holds at most this many events; narrow the search for more
COLUMNS = ("id", "at", "challenge_id", "action", "subject_type", "subject_id", "actor_id", "actor", "details")


@dataclass(frozen=True)
class AuditQuery:
    """A search of the audit log; empty fields do not filter."""

    challenge_id: Optional[int] = None
    action: str = ""  # a prefix: "challenge." finds every challenge event
    actor: str = ""  # an e-mail (or part of one), or "system" for events without an actor
    subject: str = ""  # "type" or "type:id"
    since: Optional[date] = None
    until: Optional[date] = None  # inclusive


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(query: AuditQuery):
    statement = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.actor_id)
    if query.challenge_id is not None:
        statement = statement.where(AuditEvent.challenge_id == query.challenge_id)
    if query.action.strip():
        statement = statement.where(AuditEvent.action.like(_like_prefix(query.action.strip()), escape="\\"))
    actor = query.actor.strip().lower()
    if actor == "system":
        statement = statement.where(AuditEvent.actor_id.is_(None))
    elif actor:
        statement = statement.where(func.lower(User.email).contains(actor, autoescape=True))
    if query.subject.strip():
        kind, _, ident = query.subject.strip().partition(":")
        statement = statement.where(AuditEvent.subject_type == kind.strip())
        if ident.strip():
            statement = statement.where(AuditEvent.subject_id == ident.strip())
    if query.since:
        statement = statement.where(AuditEvent.at >= datetime.combine(query.since, time(0), timezone.utc))
    if query.until:
        statement = statement.where(
            AuditEvent.at < datetime.combine(query.until + timedelta(days=1), time(0), timezone.utc)
        )
    return statement


def actor_name(actor_id: Optional[int], email: Optional[str]) -> str:
    """Who acted, as every page and export names them: the person's e-mail, "system" for the scheduler and
    the command line, or "user #7" for an account that no longer exists."""
    if email:
        return email
    return "system" if actor_id is None else f"user #{actor_id}"


def search(session: Session, query: AuditQuery, page: int = 1) -> tuple[list[tuple[AuditEvent, str]], int]:
    """One page of matching events, newest first, with the actor's name (`actor_name`); and the number of
    matches."""
    statement = _filtered(query)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(
        statement.order_by(AuditEvent.id.desc()).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return [(event, actor_name(event.actor_id, email)) for event, email in rows], int(total)


def latest(session: Session, count: int) -> list[tuple[AuditEvent, str]]:
    """The newest `count` events of every challenge, with the actor's name (the organiser's dashboard)."""
    rows = session.exec(_filtered(AuditQuery()).order_by(AuditEvent.id.desc()).limit(count)).all()
    return [(event, actor_name(event.actor_id, email)) for event, email in rows]


def _records(session: Session, query: AuditQuery) -> Iterator[dict]:
    rows = session.exec(_filtered(query).order_by(AuditEvent.id).limit(EXPORT_LIMIT)).all()
    for event, email in rows:
        yield {
            "id": event.id,
            "at": event.at.isoformat(),
            "challenge_id": event.challenge_id,
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "actor_id": event.actor_id,
            "actor": actor_name(event.actor_id, email),
            "details": event.details,
        }


def export_json(session: Session, query: AuditQuery) -> str:
    """The matching events, oldest first, as a JSON array."""
    return json.dumps(list(_records(session, query)), indent=1, default=str)


def export_csv(session: Session, query: AuditQuery) -> str:
    """The matching events, oldest first, as CSV (details as a JSON object; cells that a spreadsheet would
    run as a formula are prefixed with an apostrophe)."""
    rows = (
        {**row, "details": json.dumps(row["details"], sort_keys=True, default=str)} for row in _records(session, query)
    )
    return csv_text(COLUMNS, ([row[c] for c in COLUMNS] for row in rows))
