"""Scheduler step: delete data past its retention period. Conservative on purpose: only notifications whose
e-mail is settled, closed invitations, sign-up requests a day after they expired, and expired rate-limit
windows. Audit events, applications,
submissions and results are never deleted here (their periods run for years and end with a decision)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, or_
from sqlmodel import Session

from app.accounts.models import Invitation, SignUpRequest
from app.db import utcnow
from app.notifications.models import Notification
from app.ops.steps import for_each
from app.security.models import RateCounter
from app.settings import Settings

RATE_COUNTER_DAYS = 1
SIGN_UP_REQUEST_DAYS = 1  # after the request expired (used or not)


def apply_retention(session: Session, settings: Settings, now: Optional[datetime] = None) -> dict[str, int]:
    """Delete what is past its retention; returns how many rows of each kind went."""
    now = now or utcnow()
    closed_before = now - timedelta(days=settings.retention_invitation_days)
    kinds = {
        "notifications": delete(Notification).where(
            Notification.created_at < now - timedelta(days=settings.retention_notification_days),
            Notification.email_state != "queued",
        ),
        "invitations": delete(Invitation).where(
            or_(
                Invitation.accepted_at < closed_before,
                Invitation.revoked_at < closed_before,
                Invitation.expires_at < closed_before,
            )
        ),
        "sign_up_requests": delete(SignUpRequest).where(
            SignUpRequest.expires_at < now - timedelta(days=SIGN_UP_REQUEST_DAYS)
        ),
        "rate_counters": delete(RateCounter).where(
            RateCounter.window_start < int(now.timestamp()) - RATE_COUNTER_DAYS * 86400
        ),
    }
    deleted = dict.fromkeys(kinds, 0)

    def apply(kind: str) -> None:
        deleted[kind] = session.execute(kinds[kind]).rowcount

    for_each(session, list(kinds), apply, key=str, what="retention of")  # each kind on its own
    return deleted


_last_run = [float("-inf")]
EVERY_SECONDS = 3600


def retention_step(session: Session, settings: Settings) -> None:
    """The scheduler's retention step, at most once an hour per scheduler process (deleting is idempotent)."""
    if time.monotonic() - _last_run[0] < EVERY_SECONDS:
        return
    apply_retention(session, settings)
    _last_run[0] = time.monotonic()


STEPS = [retention_step]
