"""Sign-in limits that stop password guessing without letting anyone lock an account's owner out.

The rule (also on the sign-in page and in README.md, "Accounts and sign-in"):

- `PER_ACCOUNT_AND_CLIENT`: 10 wrong passwords for one account from one client within 15 minutes; that client
  then waits for the rest of the 15 minutes before trying that account again. A client is the browser the
  owner signed in with before (recognised by a signed cookie), or else the network address. Other clients,
  the owner's among them, are not affected.
- `PER_ACCOUNT`: 100 wrong passwords for one account within an hour from browsers it does not recognise (one
  account sprayed from many addresses); then only browsers that signed in to it before may try.
- `SIGN_IN_PER_ADDRESS` (`app.security.ratelimit`, declared on the view): 50 sign-in attempts per network address
  within 15 minutes, whatever the accounts (many accounts sprayed from one address).

Only wrong passwords count toward the first two, so signing in and out often never limits anyone. An account
is named by a keyed digest of the normalised e-mail whether or not an account exists, so the limits say
nothing about which addresses have accounts, and no e-mail address is stored in a counter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Optional

from flask import Response, current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer

from app.security.ratelimit import Rule, client_address, count, effective_limit, exceeded

PER_ACCOUNT_AND_CLIENT = Rule("sign-in:account+client", 10, 900)
PER_ACCOUNT = Rule("sign-in:account", 100, 3600)
DEVICE_COOKIE = "lagc_device"
DEVICE_DAYS = 365
DEVICE_ACCOUNTS = 5  # accounts one browser is remembered for (the most recent ones)


@dataclass(frozen=True)
class Attempt:
    """Who is trying which account: the account's digest, the client's key and whether the browser is known."""

    account: str
    client: str
    known_browser: bool
    device: Optional[dict]


def account_digest(email: str) -> str:
    """A keyed digest naming an e-mail address in rate-limit counters (no address is stored there)."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lagc-sign-in-device")


def _device() -> Optional[dict]:
    """This browser's device cookie ({"n": nonce, "a": [account digests]}) when it is genuine and current."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        device = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:  # a bad signature, an expired one, or (never without the key) a bad payload
        return None
    ok = isinstance(device, dict) and isinstance(device.get("n"), str) and isinstance(device.get("a"), list)
    return device if ok else None


def attempt_for(email: str) -> Attempt:
    """The attempt to sign in to `email` from this request's browser and address."""
    account, device = account_digest(email), _device()
    if device is not None and account in device["a"]:
        return Attempt(account, "browser:" + device["n"], True, device)
    return Attempt(account, "address:" + client_address(), False, device)


def refusal(attempt: Attempt) -> Optional[tuple[int, str]]:
    """(seconds to wait, why in words) when this attempt must wait, else None. Nothing is counted."""
    wait = exceeded(PER_ACCOUNT_AND_CLIENT, f"{attempt.account}:{attempt.client}")
    if wait is not None:
        return wait, (
            f"Too many wrong passwords for this account from your network: try again in "
            f"{_minutes(wait)}. The browser you signed in with before is not affected."
        )
    if not attempt.known_browser:
        wait = exceeded(PER_ACCOUNT, attempt.account)
        if wait is not None:
            return wait, (
                f"This account has had too many wrong passwords from many places: try again in "
                f"{_minutes(wait)}, or sign in from a browser you signed in with before."
            )
    return None


def wrong_password(attempt: Attempt) -> None:
    """Count a wrong password against the account with this client (and, from an unknown browser, overall)."""
    count(PER_ACCOUNT_AND_CLIENT, f"{attempt.account}:{attempt.client}")
    if not attempt.known_browser:
        count(PER_ACCOUNT, attempt.account)


def remember_browser(response: Response, attempt: Attempt) -> Response:
    """After a right password: this browser is recognised for the account from now on (a signed cookie)."""
    device = attempt.device or {"n": secrets.token_urlsafe(16), "a": []}
    accounts = [a for a in device["a"] if a != attempt.account] + [attempt.account]
    value = _serializer().dumps({"n": device["n"], "a": accounts[-DEVICE_ACCOUNTS:]})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def rule_words() -> str:
    """The rule as the sign-in page states it, with this deployment's limits; empty when limits are off."""
    limit = effective_limit(PER_ACCOUNT_AND_CLIENT)
    if limit is None:
        return ""
    window = PER_ACCOUNT_AND_CLIENT.window_seconds // 60
    return (
        f"To stop password guessing: after {limit} wrong passwords for an account from one network within "
        f"{window} minutes, that network waits until the {window} minutes are over before trying that "
        "account again. Other networks, and the browser you signed in with before, are not affected, so "
        "nobody can lock you out by guessing."
    )


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
