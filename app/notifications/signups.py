"""Sign-up e-mails: each stored sign-up request becomes one e-mail, decided here, away from the web request.

A new address gets the link that creates its account; the owner of an address that already has an account
is told that someone tried (at most once a day), and the attempt is audited. The sign-up page answered both
alike (`app.accounts.signup`); only this step, in the scheduler, looks at whether the address is taken.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session

from app.accounts.services import find_user
from app.accounts.signup import REQUEST_HOURS, confirmation_link, requests_to_mail
from app.audit.services import record
from app.db import utcnow
from app.notifications.rules import sign_up_link_draft, sign_up_taken_draft
from app.notifications.services import notify, notify_address
from app.settings import Settings


def mail_sign_up_requests(session: Session, settings: Settings, now: Optional[datetime] = None) -> int:
    """Write the e-mail of every sign-up request not yet mailed; returns how many requests were handled."""
    now = now or utcnow()
    handled = 0
    for request in requests_to_mail(session, now):
        owner = find_user(session, request.email)
        if owner is None:
            link = confirmation_link(settings.public_url, settings.secret_key, request)
            notify_address(
                session, request.email, sign_up_link_draft(link, REQUEST_HOURS), f"sign-up:{request.id}", now=now
            )
        else:
            notify(
                session,
                owner.id,
                sign_up_taken_draft(settings.public_url + "/signin"),
                f"sign-up-taken:{owner.id}:{now:%Y-%m-%d}",
                now=now,
            )
            record(
                session,
                "account.sign_up_refused",
                "user",
                owner.id,
                actor_id=None,
                reason="the address already has an account; its owner is told by e-mail",
            )
        request.mailed_at = now
        session.add(request)
        handled += 1
    return handled
