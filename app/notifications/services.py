"""Notifications that touch the database: creating them (respecting preferences), the inbox, preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import func, update
from sqlmodel import Session, select

from app.accounts.models import User
from app.db import utcnow
from app.notifications.models import Notification, NotificationPreference
from app.notifications.rules import KINDS, Draft


def preference_of(session: Session, user_id: int, kind: str) -> tuple[bool, bool]:
    """(by e-mail, on the dashboard) for this person and kind; the kind's defaults without a stored choice."""
    row = session.get(NotificationPreference, (user_id, kind))
    if row is not None:
        return row.email, row.dashboard
    default = KINDS.get(kind)
    return (default.email, default.dashboard) if default else (True, True)


def preferences_of(session: Session, user_id: int) -> dict[str, tuple[bool, bool]]:
    """Every kind's (e-mail, dashboard) choice for this person."""
    return {kind: preference_of(session, user_id, kind) for kind in KINDS}


def set_preferences(session: Session, user_id: int, choices: dict[str, tuple[bool, bool]]) -> None:
    """Store the person's choices (kinds not in KINDS are ignored)."""
    for kind, (email, dashboard) in choices.items():
        if kind not in KINDS:
            continue
        row = session.get(NotificationPreference, (user_id, kind)) or NotificationPreference(user_id=user_id, kind=kind)
        row.email, row.dashboard = bool(email), bool(dashboard)
        session.add(row)


def notify(
    session: Session,
    user_id: int,
    draft: Draft,
    dedupe_key: str,
    *,
    audit_event_id: Optional[int] = None,
    now: Optional[datetime] = None,
) -> Optional[Notification]:
    """Write one notification unless it exists already or the person wants it on neither channel."""
    if session.exec(select(Notification.id).where(Notification.dedupe_key == dedupe_key)).first() is not None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    email, dashboard = preference_of(session, user_id, draft.kind)
    if not (email or dashboard):
        return None
    row = Notification(
        recipient_id=user_id,
        kind=draft.kind,
        subject=draft.subject[:200],
        body=draft.body,
        dedupe_key=dedupe_key[:120],
        audit_event_id=audit_event_id,
        created_at=now or utcnow(),
        on_dashboard=dashboard,
        email_state="queued" if email else "skipped",
    )
    session.add(row)
    session.flush()
    return row


def notify_address(
    session: Session, address: str, draft: Draft, dedupe_key: str, *, now: Optional[datetime] = None
) -> Optional[Notification]:
    """Write one e-mail to an address that has no account yet (never on a dashboard), unless it exists already."""
    if session.exec(select(Notification.id).where(Notification.dedupe_key == dedupe_key)).first() is not None:
        return None
    row = Notification(
        recipient_id=None,
        address=address,
        kind=draft.kind,
        subject=draft.subject[:200],
        body=draft.body,
        dedupe_key=dedupe_key[:120],
        created_at=now or utcnow(),
        on_dashboard=False,
        email_state="queued",
    )
    session.add(row)
    session.flush()
    return row


def inbox(session: Session, user_id: int, limit: int = 100) -> list[Notification]:
    """The person's dashboard notifications, newest first."""
    return list(
        session.exec(
            select(Notification)
            .where(Notification.recipient_id == user_id, Notification.on_dashboard.is_(True))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, user_id: int) -> int:
    """How many dashboard notifications the person has not read."""
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient_id == user_id, Notification.on_dashboard.is_(True), Notification.read_at.is_(None)
        )
    ).one()


def mark_read(session: Session, user_id: int, notification_id: Optional[int] = None) -> int:
    """Mark one (or, without an id, every) unread notification of the person as read; returns how many."""
    statement = update(Notification).where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    return session.execute(statement.values(read_at=utcnow())).rowcount
