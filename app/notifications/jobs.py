"""Scheduler steps: audit events and deadlines become notifications, then due e-mails are sent."""

from __future__ import annotations

from sqlmodel import Session

from app.notifications.fanout import process_audit_log, remind_deadlines, remind_obligations
from app.notifications.sender import send_due
from app.notifications.signups import mail_sign_up_requests
from app.settings import Settings


def notify_from_audit_log(session: Session, settings: Settings) -> None:
    """Turn new audit events into notifications (idempotent: a watermark and one key per event and person)."""
    process_audit_log(session)


def remind_of_deadlines(session: Session, settings: Settings) -> None:
    """Phases and release obligations ending within 48 hours, once per person."""
    remind_deadlines(session)
    remind_obligations(session)


def send_notification_emails(session: Session, settings: Settings) -> None:
    """Send the due e-mails through SMTP, retrying failures with exponential backoff."""
    send_due(session, settings)


STEPS = [notify_from_audit_log, mail_sign_up_requests, remind_of_deadlines, send_notification_emails]
