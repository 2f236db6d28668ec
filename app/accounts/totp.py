"""Time-based one-time passwords (RFC 6238) and recovery codes: pure rules, no web or database code.

A code is accepted for the current 30-second step or one step either side (clock drift), and only for a
step later than the last one accepted for the account, so a code cannot be replayed within its window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

ISSUER = "Large AI Grand Challenge"
INTERVAL_SECONDS = 30
DRIFT_STEPS = 1  # accept the previous and the next 30-second step too
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand


def new_secret() -> str:
    """A fresh random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def demo_secret(email: str) -> str:
    """The deterministic secret of a demo account (never used for a real account): derived from the e-mail."""
    digest = hashlib.sha256(b"lagc-demo-totp:" + email.strip().lower().encode("utf-8")).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def step_at(moment: datetime) -> int:
    """The 30-second time step containing `moment` (aware)."""
    return int(moment.timestamp()) // INTERVAL_SECONDS


def code_at(secret: str, step: int) -> str:
    """The six-digit code of a time step."""
    return pyotp.TOTP(secret, interval=INTERVAL_SECONDS).generate_otp(step)


def normalise_code(code: str) -> str:
    """What the person typed, without spaces and dashes, lower-case."""
    return "".join(code.split()).replace("-", "").lower()


def accepted_step(secret: str, code: str, moment: datetime, last_used_step: int | None) -> int | None:
    """The time step this code belongs to when it is acceptable at `moment`, else None.

    Acceptable: six digits matching a step within the drift window and later than `last_used_step`."""
    code = normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    now = step_at(moment)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Fresh one-time recovery codes, shown as `xxxxx-xxxxx` (about 49 bits each)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_digest(code: str) -> str:
    """What is stored of a recovery code: the SHA-256 of its normalised form (the codes are random, so a
    fast hash is enough, as for API tokens)."""
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()
