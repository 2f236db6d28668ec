"""Sign-up that never reveals which addresses have accounts.

`/signup` does the same work for every address (check the form, hash the password, store a request) and
answers with the same page: "check your inbox". Whether the address has an account is looked at only later,
by the scheduler (`app.notifications.jobs.mail_sign_up_requests`): a new address gets a link that creates the
account (`confirmation_link`, valid for `REQUEST_HOURS`); the owner of a taken address is told that someone
tried, and nothing changes. The account exists only once the link is followed, so signing in with the
password chosen at sign-up says nothing either until the address's owner confirms it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlmodel import Session, select

from app.accounts.models import Role, SignUpRequest, User
from app.accounts.services import HASHER, AccountError, check_new_account, find_user, normalise_email
from app.audit.services import record
from app.db import utcnow

REQUEST_HOURS = 24
CONFIRM_PATH = "/signup/confirm/"


def request_sign_up(
    session: Session, email: str, password: str, display_name: str, now: Optional[datetime] = None
) -> SignUpRequest:
    """Store a sign-up request, doing the same work whether or not the address has an account."""
    check_new_account(password, display_name)
    now = now or utcnow()
    row = SignUpRequest(
        email=normalise_email(email),
        display_name=display_name.strip()[:120] or "entrant",
        password_hash=HASHER.hash(password),
        created_at=now,
        expires_at=now + timedelta(hours=REQUEST_HOURS),
    )
    session.add(row)
    session.flush()
    return row


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="lagc-sign-up")


def confirmation_link(public_url: str, secret_key: str, request: SignUpRequest) -> str:
    """The link e-mailed to a new address: it names the request, signed with the secret key."""
    return public_url.rstrip("/") + CONFIRM_PATH + _serializer(secret_key).dumps({"r": request.id})


def open_request(
    session: Session, secret_key: str, token: str, now: Optional[datetime] = None
) -> Optional[SignUpRequest]:
    """The request a genuine, unused, unexpired link names, or None."""
    try:
        data = _serializer(secret_key).loads(token, max_age=REQUEST_HOURS * 3600)
    except BadData:  # a bad signature, an expired one, or (never without the key) a bad payload
        return None
    request_id = data.get("r") if isinstance(data, dict) else None
    row = session.get(SignUpRequest, request_id) if isinstance(request_id, int) else None
    if row is None or row.completed_at is not None or row.expires_at <= (now or utcnow()):
        return None
    return row


def complete_sign_up(session: Session, request: SignUpRequest, now: Optional[datetime] = None) -> User:
    """Create the account the confirmed request asked for, with the password chosen at sign-up."""
    if find_user(session, request.email) is not None:
        raise AccountError("This address already has an account: sign in instead.", "email")
    user = User(
        email=request.email, display_name=request.display_name, role=Role.entrant, password_hash=request.password_hash
    )
    session.add(user)
    request.completed_at = now or utcnow()
    session.add(request)
    session.flush()
    record(
        session, "account.created", "user", user.id, actor_id=user.id, role=Role.entrant.value, confirmed_address=True
    )
    return user


def requests_to_mail(session: Session, now: datetime) -> list[SignUpRequest]:
    """Requests not yet e-mailed and still valid, oldest first."""
    return list(
        session.exec(
            select(SignUpRequest)
            .where(SignUpRequest.mailed_at.is_(None), SignUpRequest.expires_at > now)
            .order_by(SignUpRequest.id)
        ).all()
    )
