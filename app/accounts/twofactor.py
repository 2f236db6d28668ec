"""The second factor: enrolment, verification at sign-in, recovery codes, and who must have one.

Secrets are stored encrypted (Fernet, with a key derived from SECRET_KEY by HKDF): a copy of the database
alone does not reveal them. Rotating SECRET_KEY therefore means everyone enrols their authenticator again.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, select

from app.accounts import totp
from app.accounts.models import RecoveryCode, Role, TotpCredential, User
from app.audit.services import record
from app.db import utcnow

REQUIRED_FOR = frozenset({Role.organiser, Role.judge})


def requires_second_factor(user: User) -> bool:
    """Organisers and judges must sign in with a second factor."""
    return Role(user.role) in REQUIRED_FOR


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lagc totp secrets v1").derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(token: str, secret_key: str) -> Optional[str]:
    """The plain secret, or None when it was encrypted under another SECRET_KEY."""
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        return None


def credential_of(session: Session, user_id: int) -> Optional[TotpCredential]:
    return session.exec(select(TotpCredential).where(TotpCredential.user_id == user_id)).first()


def is_enrolled(session: Session, user_id: int) -> bool:
    """Whether the person has a confirmed authenticator."""
    credential = credential_of(session, user_id)
    return credential is not None and credential.confirmed_at is not None


def start_enrolment(session: Session, user: User, secret_key: str, secret: str | None = None) -> str:
    """A new pending secret for the person (replacing an unconfirmed one); returns it to show once."""
    credential = credential_of(session, user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise ValueError("two-factor authentication is already enabled")
    secret = secret or totp.new_secret()
    if credential is None:
        credential = TotpCredential(user_id=user.id, secret_encrypted="")
        session.add(credential)
    credential.secret_encrypted = encrypt_secret(secret, secret_key)
    credential.created_at = utcnow()
    session.flush()
    return secret


def pending_secret(session: Session, user: User, secret_key: str) -> Optional[str]:
    """The unconfirmed secret being enrolled, to show again after a mistyped code."""
    credential = credential_of(session, user.id)
    if credential is None or credential.confirmed_at is not None:
        return None
    return decrypt_secret(credential.secret_encrypted, secret_key)


def confirm_enrolment(
    session: Session, user: User, code: str, secret_key: str, now: datetime | None = None
) -> Optional[list[str]]:
    """Activate the pending secret when `code` matches it; returns the new recovery codes (shown once)."""
    credential = credential_of(session, user.id)
    if credential is None or credential.confirmed_at is not None:
        return None
    secret = decrypt_secret(credential.secret_encrypted, secret_key)
    step = secret and totp.accepted_step(secret, code, now or utcnow(), credential.last_used_step)
    if not step:
        return None
    credential.confirmed_at, credential.last_used_step = now or utcnow(), step
    codes = replace_recovery_codes(session, user)
    record(session, "account.2fa_enabled", "user", user.id, actor_id=user.id)
    return codes


def replace_recovery_codes(session: Session, user: User) -> list[str]:
    """New recovery codes for the person; the old ones stop working. Returns the plain codes."""
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all():
        session.delete(old)
    codes = totp.new_recovery_codes()
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=totp.recovery_digest(code)))
    session.flush()
    return codes


def verify_second_factor(
    session: Session, user: User, code: str, secret_key: str, now: datetime | None = None
) -> Optional[str]:
    """Check a sign-in code: an authenticator code (once per step) or an unused recovery code.

    Returns how it passed ("totp" or "recovery") or None; records the use so it cannot be replayed."""
    credential = credential_of(session, user.id)
    if credential is None or credential.confirmed_at is None:
        return None
    secret = decrypt_secret(credential.secret_encrypted, secret_key)
    step = secret and totp.accepted_step(secret, code, now or utcnow(), credential.last_used_step)
    if step:
        credential.last_used_step = step
        return "totp"
    recovery = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == totp.recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if recovery is None:
        return None
    recovery.used_at = now or utcnow()
    record(session, "account.recovery_code_used", "user", user.id, actor_id=user.id)
    return "recovery"


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(
        session.exec(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def enrol_with_secret(session: Session, user: User, secret: str, secret_key: str) -> list[str]:
    """Enrol a known secret without a code (the demo accounts and tests); returns recovery codes."""
    start_enrolment(session, user, secret_key, secret)
    credential = credential_of(session, user.id)
    credential.confirmed_at = utcnow()
    codes = replace_recovery_codes(session, user)
    record(session, "account.2fa_enabled", "user", user.id, actor_id=user.id, how="provisioned")
    return codes
