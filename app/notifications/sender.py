"""Sending queued e-mails through SMTP (smtplib), from the scheduler only, with exponential backoff.

A send never happens in a web request: the action that caused a notification committed long before, so a
slow or broken mail server can delay an e-mail but never the action. Without a configured server the
e-mails stay queued with the reason, and the dashboard still shows them.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Optional

from sqlalchemy import or_, update
from sqlmodel import Session, select

from app.accounts.models import User
from app.db import utcnow
from app.notifications.models import Notification
from app.notifications.rules import MAX_ATTEMPTS, gives_up, retry_delay
from app.ops.steps import for_each
from app.settings import Settings

LOG = logging.getLogger(__name__)
NO_SERVER = "no SMTP server configured"
TIMEOUT_SECONDS = 10
BATCH = 50


def compose(settings: Settings, to: str, notification: Notification) -> EmailMessage:
    """The e-mail for one notification: plain text, with a link-free footer on how to change preferences."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="lagc.invalid")
    message.set_content(
        f"{notification.body}\n\n--\nYou receive this because of your notification settings "
        "(Account > Notifications) on the Large AI Grand Challenge platform.\n"
    )
    return message


def deliver(settings: Settings, message: EmailMessage) -> None:
    """Hand one message to the configured SMTP server; raises on any failure."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _due(session: Session, now: datetime) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(
                Notification.email_state == "queued",
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
            )
            .order_by(Notification.id)
            .limit(BATCH)
        )
    )


def address_of(session: Session, notification: Notification) -> Optional[str]:
    """Where the e-mail goes: the recipient's address, or the address of a message to someone without an
    account yet; None when the recipient's account is closed."""
    if notification.recipient_id is None:
        return notification.address
    user = session.get(User, notification.recipient_id)
    return user.email if user is not None and user.is_active else None


def send_one(session: Session, settings: Settings, notification: Notification, now: datetime) -> bool:
    """Try to send one e-mail and record the outcome (sent, retry later, or failed for good)."""
    to = address_of(session, notification)
    if to is None:
        notification.email_state, notification.last_error = "skipped", "the account is closed"
        session.add(notification)
        return False
    try:
        deliver(settings, compose(settings, to, notification))
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeouts, refusals by the server
        notification.attempts += 1
        notification.last_error = f"{exc.__class__.__name__}: {exc}"[:500]
        if gives_up(notification.attempts, MAX_ATTEMPTS):
            notification.email_state, notification.next_attempt_at = "failed", None
        else:
            notification.next_attempt_at = now + retry_delay(notification.attempts)
        session.add(notification)
        return False
    notification.attempts += 1
    notification.email_state, notification.sent_at = "sent", now
    notification.last_error = notification.next_attempt_at = None
    session.add(notification)
    return True


def _log_unsent(session: Session, settings: Settings) -> None:
    """Without a mail server, outside production: write each newly queued e-mail to the log once, so whoever
    runs the platform on their machine can follow a sign-up link. Never in production (links are secrets)."""
    fresh = session.exec(
        select(Notification)
        .where(Notification.email_state == "queued", Notification.last_error.is_(None))
        .order_by(Notification.id)
    ).all()
    for notification in fresh:
        message = compose(settings, address_of(session, notification) or "(closed account)", notification)
        LOG.info(
            "e-mail not sent (no SMTP server, %s): To: %s; Subject: %s\n%s",
            settings.env,
            message["To"],
            message["Subject"],
            notification.body,
        )


def send_due(session: Session, settings: Settings, now: Optional[datetime] = None) -> int:
    """Send every e-mail that is due; commit after each so a crash never sends one twice. Returns how many sent."""
    now = now or utcnow()
    if not settings.smtp_host:
        if not settings.production:
            _log_unsent(session, settings)
        session.execute(
            update(Notification)
            .where(Notification.email_state == "queued", Notification.last_error.is_(None))
            .values(last_error=NO_SERVER)
        )
        return 0
    sent = [0]

    def send(notification: Notification) -> None:
        sent[0] += send_one(session, settings, notification, now)

    # SMTP failures are retried with backoff by send_one; anything else fails that e-mail alone.
    for_each(session, _due(session, now), send, commit=True, what="e-mail of notification")
    return sent[0]
