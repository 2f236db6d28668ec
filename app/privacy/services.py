"""Data protection: a person's data as JSON, and erasure that keeps the audit record and the results.

The export walks every table that points at the person (any foreign key to `user.id`), so a feature added
later is included without changing this file; secrets (hashes, encrypted tokens) are never exported.
Erasure pseudonymises the account instead of deleting it: audit events and competition results refer to the
user id, and both must stay (funding audits, the published ranking).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select as sa_select, update
from sqlmodel import Session, SQLModel, select

from app.accounts.models import ApiToken, Invitation, Role, User
from app.accounts.services import HASHER
from app.audit.services import record
from app.db import utcnow
from app.errors import DomainError
from app.teams.models import Team, TeamMembership

SECRET_MARKERS = ("hash", "encrypted", "secret", "password")
UNUSABLE_PASSWORD = "!erased"  # not an argon2 hash: verification fails for every password


class ErasureRefused(DomainError, ValueError):
    """The erasure cannot go ahead (wrong password, the last organiser, ...)."""


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _user_columns(table: Table) -> list:
    return [c for c in table.columns for fk in c.foreign_keys if fk.column.table.name == "user"]


def _rows_of(session: Session, table: Table, user_id: int) -> list[dict]:
    columns = _user_columns(table)
    condition = columns[0] == user_id
    for column in columns[1:]:
        condition = condition | (column == user_id)
    rows = session.execute(sa_select(table).where(condition).order_by(*table.primary_key.columns)).mappings()
    return [{k: _plain(v) for k, v in row.items() if not any(m in k for m in SECRET_MARKERS)} for row in rows]


def export_personal_data(session: Session, user: User) -> dict:
    """Everything the platform holds about the person: the account and every row that refers to them."""
    records: dict[str, list[dict]] = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "user" or not _user_columns(table):
            continue
        rows = _rows_of(session, table, user.id)
        if rows:
            records[table.name] = rows
    teams = session.exec(
        select(Team).join(TeamMembership, TeamMembership.team_id == Team.id).where(TeamMembership.user_id == user.id)
    ).all()
    return {
        "exported_at": utcnow().isoformat(),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "role": _plain(user.role),
            "created_at": _plain(user.created_at),
            "last_sign_in_at": _plain(user.last_sign_in_at),
            "is_active": user.is_active,
        },
        "teams": [{"id": t.id, "name": t.name, "challenge_id": t.challenge_id} for t in teams],
        "invitations_to_this_address": [
            {
                "id": i.id,
                "role": _plain(i.role),
                "created_at": _plain(i.created_at),
                "accepted_at": _plain(i.accepted_at),
            }
            for i in session.exec(select(Invitation).where(Invitation.email == user.email))
        ],
        "records": records,
        "notes": "Rows are grouped by table; columns holding secrets (password and token hashes, encrypted Hub "
        "tokens) are left out. Audit events where you acted are under records.auditevent.",
    }


def _check_may_erase(session: Session, user: User, password: str) -> None:
    try:
        HASHER.verify(user.password_hash, password)
    except Exception:  # argon2 raises several kinds; any of them means "not this password"
        raise ErasureRefused("The password is wrong.") from None
    if Role(user.role) is Role.organiser:
        others = session.exec(
            select(User.id).where(User.role == Role.organiser, User.is_active.is_(True), User.id != user.id)
        ).first()
        if others is None:
            raise ErasureRefused("You are the last organiser: invite another organiser before erasing your account.")


def _pseudonymise_sole_teams(session: Session, user: User) -> list[int]:
    """Teams whose only member is this person keep their results under a pseudonym."""
    renamed = []
    for membership in session.exec(select(TeamMembership).where(TeamMembership.user_id == user.id)).all():
        members = session.exec(select(TeamMembership.id).where(TeamMembership.team_id == membership.team_id)).all()
        team = session.get(Team, membership.team_id)
        if len(members) == 1 and team is not None:
            team.name = f"Erased team #{team.id}"
            session.add(team)
            renamed.append(team.id)
    return renamed


def erase(session: Session, user: User, password: str) -> None:
    """Erase the person's personal data after checking their password; the caller commits."""
    _check_may_erase(session, user, password)
    now, old_email = utcnow(), user.email
    teams = _pseudonymise_sole_teams(session, user)
    user.email = f"erased-{user.id}@invalid"
    user.display_name = f"Erased participant #{user.id}"
    user.password_hash, user.is_active, user.last_sign_in_at = UNUSABLE_PASSWORD, False, None
    session.add(user)
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(name="erased"))
    session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    session.execute(update(Invitation).where(Invitation.email == old_email).values(email=user.email))
    _blank_feature_data(session, user, old_email)
    record(session, "privacy.erased", "user", user.id, actor_id=user.id, pseudonymised_teams=teams)


def _blank_feature_data(session: Session, user: User, old_email: str) -> None:
    """Notifications (also those e-mailed to the address before the account existed), preferences, sign-up
    requests and second-factor secrets go; a submission's stored Hub token goes."""
    from app.accounts.models import RecoveryCode, SignUpRequest, TotpCredential
    from app.checkpoints.models import Submission
    from app.notifications.models import Notification, NotificationPreference

    for model, column in ((Notification, Notification.address), (SignUpRequest, SignUpRequest.email)):
        for row in session.exec(select(model).where(column == old_email)).all():
            session.delete(row)
    for model, column in (
        (Notification, Notification.recipient_id),
        (NotificationPreference, NotificationPreference.user_id),
        (TotpCredential, TotpCredential.user_id),
        (RecoveryCode, RecoveryCode.user_id),
    ):
        for row in session.exec(select(model).where(column == user.id)).all():
            session.delete(row)
    session.execute(update(Submission).where(Submission.submitted_by_id == user.id).values(hub_token_encrypted=None))


def audit_events_mentioning(session: Session, text: str) -> list[int]:
    """Ids of audit events whose details contain `text` (used to check that no e-mail leaks into the log)."""
    from app.audit.models import AuditEvent

    needle = text.lower()
    return [e.id for e in session.exec(select(AuditEvent)).all() if needle in repr(e.details).lower()]
