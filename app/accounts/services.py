"""Account rules that touch the database: creating people, signing in, invitations and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Optional

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from app.accounts.models import ApiToken, Invitation, Role, User
from app.audit.services import record
from app.db import utcnow
from app.errors import DomainError, Kind
from app.visible import hidden_character_problem


class Passwords:
    """argon2id password hashing at the cost `Settings.password_hash_cost` names (set by `create_app` for the
    whole process): "standard" is the library's recommended parameters; "cheapest" is only for the test
    suite. ``dummy`` is verified against when an account does not exist, so an unknown e-mail costs the same
    time as a wrong password."""

    COSTS = {"standard": PasswordHasher, "cheapest": lambda: PasswordHasher.from_parameters(profiles.CHEAPEST)}

    def __init__(self) -> None:
        self.cost = ""
        self.use("standard")

    def use(self, cost: str) -> None:
        if cost != self.cost:
            self._hasher, self.cost = self.COSTS[cost](), cost
            self.dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self._hasher.verify(password_hash, password)

    def check_needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


HASHER = Passwords()
TOKEN_PREFIX = "lagc_"
INVITATION_DAYS = 14


class AccountError(DomainError, ValueError):
    """A request about accounts that cannot be granted (invalid); `field` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None, *, kind: Kind = Kind.invalid):
        super().__init__(message, kind=kind, field=field)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> Optional[User]:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def check_new_account(password: str, display_name: str) -> None:
    """The rules on a new account's password and name (AccountError naming the field)."""
    if len(password) < 10:
        raise AccountError("Choose a password of at least 10 characters.", "password")
    hidden = hidden_character_problem(display_name.strip(), "Your name")
    if hidden:
        raise AccountError(hidden, "display_name")


def create_user(
    session: Session, email: str, password: str, display_name: str, role: Role, actor_id: Optional[int] = None
) -> User:
    """Create an account; refuses an e-mail already registered (the CLI, invitations and the demo; people
    signing up themselves go through `app.accounts.signup`, which never says that an address is taken)."""
    if find_user(session, email) is not None:
        raise AccountError("An account with this e-mail address already exists.", "email")
    check_new_account(password, display_name)
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip() or email,
        role=role,
        password_hash=HASHER.hash(password),
    )
    session.add(user)
    session.flush()
    record(session, "account.created", "user", user.id, actor_id=actor_id or user.id, role=role.value)
    return user


def authenticate(session: Session, email: str, password: str) -> Optional[User]:
    """The account for these credentials, or None; unknown accounts take as long as wrong passwords."""
    user = find_user(session, email)
    try:
        HASHER.verify(user.password_hash if user else HASHER.dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    user.last_sign_in_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token; the plain token is returned once and only its hash is stored."""
    hidden = hidden_character_problem(name, "The token's name")
    if hidden:
        raise AccountError(hidden, "name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip()[:80] or "token", prefix=plain[:12], token_hash=_digest(plain))
    session.add(token)
    session.flush()
    record(session, "token.issued", "api_token", token.id, actor_id=user.id, name=token.name)
    return token, plain


def revoke_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError("No such token.", kind=Kind.not_found)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, "token.revoked", "api_token", token.id, actor_id=user.id)


def user_for_token(session: Session, plain: str) -> Optional[User]:
    """The active user owning a valid, unrevoked token, or None."""
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(plain))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    token.last_used_at = utcnow()
    return user


def invite(session: Session, organiser: User, email: str, role: Role) -> tuple[Invitation, str]:
    """An invitation for a judge or organiser; the plain token goes into the link shown to the organiser."""
    if role is Role.entrant:
        raise AccountError("Entrants sign up themselves; invite judges and organisers.", "role")
    if find_user(session, email) is not None:
        raise AccountError("This person already has an account.", "email")
    plain = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=normalise_email(email),
        role=role,
        token_hash=_digest(plain),
        invited_by_id=organiser.id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    record(session, "invitation.created", "invitation", invitation.id, actor_id=organiser.id, role=role.value)
    return invitation, plain


def open_invitation(session: Session, plain: str) -> Optional[Invitation]:
    """A valid invitation for this token: not accepted, not revoked, not expired."""
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == _digest(plain))).first()
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at < utcnow():
        return None
    return invitation


def accept_invitation(session: Session, invitation: Invitation, password: str, display_name: str) -> User:
    user = create_user(
        session, invitation.email, password, display_name, Role(invitation.role), actor_id=invitation.invited_by_id
    )
    invitation.accepted_at = utcnow()
    record(session, "invitation.accepted", "invitation", invitation.id, actor_id=user.id)
    return user
