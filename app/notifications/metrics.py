"""The notification feature's gauges for `/metrics`: e-mails by state."""

from __future__ import annotations

from typing import Iterator

from prometheus_client.core import Metric
from sqlmodel import Session

from app.notifications.models import Notification
from app.ops.metrics import by_label, counts_by, gauges

EMAIL_STATES = ("queued", "sent", "failed", "skipped")


@gauges
def email_gauges(session: Session) -> Iterator[Metric]:
    """lagc_notification_emails{state}."""
    counts = counts_by(session, Notification.email_state, EMAIL_STATES)
    yield by_label("lagc_notification_emails", "Notification e-mails by state.", "state", counts)
