"""Rate limits, counted in the database so every web worker shares them; answered with 429 and Retry-After.

Views declare limits with `@limited(RULE, ...)` (keyed by the client address); views that limit by something
in the request (the account being signed in to) call `check(rule, key)` themselves. Over the limit, `check`
raises `RateLimited`; the shell answers it (a short text on pages, a problem document on the API).
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


SIGN_IN_PER_ACCOUNT = Rule("sign-in:account", 10, 900)
SIGN_IN_PER_ADDRESS = Rule("sign-in:address", 50, 900)
SIGN_UP_PER_ADDRESS = Rule("sign-up:address", 10, 3600)
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


def check(rule: Rule, who: str) -> None:
    """Count one request for `who` under `rule`; raise `RateLimited` once over the limit."""
    settings = current_app.config["LAGC"]
    if settings.rate_limit_scale <= 0:
        return
    limit = max(1, int(rule.limit * settings.rate_limit_scale))
    now = int(time.time())
    start = now - now % rule.window_seconds
    count = _increment(f"{rule.name}:{who}"[:200], start)
    if count > limit:
        raise RateLimited(start + rule.window_seconds - now)


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
