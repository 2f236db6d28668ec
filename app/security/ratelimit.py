"""Rate limits, counted in the database so every web worker shares them; answered with 429 and Retry-After.

Views declare limits with `@limited(RULE, ...)` (keyed by the client address); views that limit by something
in the request (the account being signed in to) call `check(rule, key)` themselves. Over the limit, `check`
raises `RateLimited`; the shell answers it (a short text on pages, a problem document on the API). Limits that count only some
outcomes (a wrong password, `app.accounts.signin`) read with `exceeded(rule, key)` first and `count(rule, key)`
after the outcome.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from flask import current_app, request
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import get_session
from app.errors import DomainError, Kind
from app.security.models import RateCounter


class RateLimited(DomainError):
    """Over a rate limit: try again after `retry_after` seconds."""

    kind = Kind.too_many

    def __init__(self, retry_after: int):
        super().__init__("Too many requests: wait a little and try again.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window_seconds: int


SIGN_IN_PER_ADDRESS = Rule("sign-in:address", 50, 900)
SIGN_UP_PER_ADDRESS = Rule("sign-up:address", 10, 3600)
SIGN_UP_PER_EMAIL = Rule("sign-up:email", 5, 86400)  # e-mails a typed address may be sent in a day
PUBLIC_API_PER_ADDRESS = Rule("public-api:address", 60, 60)


def limited(*rules: Rule) -> Callable:
    """Declare per-address limits on a view; `enforce_limits` applies them before the view runs."""

    def decorator(view: Callable) -> Callable:
        view.rate_rules = rules  # type: ignore[attr-defined]
        return view

    return decorator


def client_address() -> str:
    return request.remote_addr or "unknown"


def enforce_limits() -> None:
    """before_request: count this request against the endpoint's declared rules (reading a page is free)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    for rule in getattr(view, "rate_rules", ()):
        check(rule, f"{request.endpoint}:{client_address()}")  # each endpoint has its own budget


def effective_limit(rule: Rule) -> int | None:
    """The rule's limit as this deployment applies it (`LAGC_RATE_LIMIT_SCALE`), or None when limits are off."""
    scale = current_app.config["LAGC"].rate_limit_scale
    return max(1, int(rule.limit * scale)) if scale > 0 else None


def _window(rule: Rule) -> tuple[int, int]:
    """(now, the start of the rule's current fixed window), in unix seconds."""
    now = int(time.time())
    return now, now - now % rule.window_seconds


def check(rule: Rule, who: str) -> None:
    """Count one request for `who` under `rule`; raise `RateLimited` once over the limit."""
    limit = effective_limit(rule)
    if limit is None:
        return
    now, start = _window(rule)
    if _increment(f"{rule.name}:{who}"[:200], start) > limit:
        raise RateLimited(start + rule.window_seconds - now)


def exceeded(rule: Rule, who: str) -> int | None:
    """Without counting: the seconds until `who` may try again when its count has reached the limit, else None."""
    limit = effective_limit(rule)
    if limit is None:
        return None
    now, start = _window(rule)
    row = get_session().get(RateCounter, f"{rule.name}:{who}"[:200])
    if row is None or row.window_start != start or row.count < limit:
        return None
    return start + rule.window_seconds - now


def count(rule: Rule, who: str) -> None:
    """Count one event (a wrong password) for `who` under `rule`, without refusing anything."""
    if effective_limit(rule) is not None:
        _increment(f"{rule.name}:{who}"[:200], _window(rule)[1])


def _increment(key: str, window_start: int) -> int:
    """Atomically add one to the key's counter in this window (resetting it in a new window)."""
    session = get_session()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = RateCounter.__table__
    statement = insert(table).values(key=key, window_start=window_start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": _case_same_window(table, window_start, statement), "window_start": window_start},
    ).returning(table.c.count)
    count = session.execute(statement).scalar_one()
    session.commit()
    return count


def _case_same_window(table, window_start: int, statement):
    from sqlalchemy import case

    return case((table.c.window_start == window_start, table.c.count + 1), else_=1)
