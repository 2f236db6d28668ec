"""Serving snapshots over HTTP, shared by the pages and the API: find the board, answer 304 early, and
reuse rendered bodies.

Order of work for a public request: one cached head lookup (`leaderboard.cache.head`), then
`If-None-Match` -> 304, then the rendered-body cache, and only then filtering and rendering. Bodies for
anonymous visitors are shared (`app.ops.headers.share_publicly`: ``Cache-Control: public``, the snapshot's
ETag and its time as Last-Modified), and the web worker's fast path (`app.ops.public_cache`) serves them
again without Flask until a new snapshot is announced; signed-in people get their own page (their
navigation differs), never stored anywhere (``no-store``, by `app.ops.headers.personal_request`).

A request only reads what the scheduler stored: a stale snapshot is served until the scheduler's next cycle
replaces it (seconds), and a board without a snapshot yet is "being prepared" (`PREPARING`, with
``Retry-After``), never computed in the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from flask import Response, current_app, request, session as cookie_session
from flask_login import current_user

from app.db import get_session
from app.ops import changes
from app.ops.headers import share_publicly, still_valid
from leaderboard import cache

RETRY_AFTER = 5  # seconds: the scheduler computes a new board within a cycle or two
PREPARING = "The board is being prepared: it appears within a few seconds. Try again shortly."


@dataclass(frozen=True)
class Board:
    """What a request needs of a board: the head (challenge, ETag) and the snapshot's rows and meta."""

    head: cache.Head
    rows: list
    meta: dict


def _engine_key() -> str:
    return str(current_app.extensions["lagc_engine"].url)


def board_head(slug: Optional[str], audience: str = "public") -> Optional[cache.Head]:
    """The head of the board as the scheduler last stored it, re-read at once when the public pages' change
    signal moved (`app.ops.changes`); None when there is no such challenge. Its ``etag`` is None while the
    board is being prepared (no snapshot yet)."""
    signal = changes.signal_path(current_app.config["LAGC"].instance_dir)
    return cache.head(get_session(), _engine_key(), slug, audience, changes.generation(signal))


def load_board(head: cache.Head, audience: str = "public") -> Optional[Board]:
    """The parsed snapshot behind ``head`` (re-reading the head once if the snapshot moved meanwhile);
    None when there is none."""
    session = get_session()
    data = cache.snapshot_data(session, head.challenge_id, audience, head.etag) if head.etag else None
    if data is None:
        cache.forget_heads()
        head = board_head(head.slug, audience)
        if head is None or head.etag is None:
            return None
        data = cache.snapshot_data(session, head.challenge_id, audience, head.etag)
    return Board(head, *data) if data is not None else None


def anonymous() -> bool:
    """True when nobody is signed in (the shared, cacheable representation)."""
    return not current_user.is_authenticated


def quoted(etag: str) -> str:
    return f'"{etag}"'


def not_modified(head: cache.Head) -> Optional[Response]:
    """A 304 when the visitor is anonymous and already holds this snapshot's representation (If-None-Match,
    or If-Modified-Since alone)."""
    if (
        anonymous()
        and head.etag
        and still_valid(
            head.etag, head.computed_at, request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
        )
    ):
        return _public(Response(status=304), head)
    return None


def cached_body(head: cache.Head, kind: str, build: Callable[[], tuple[bytes | str, str]]) -> Response:
    """The body of ``kind`` for this request's query, rendered once per snapshot for anonymous visitors."""
    if not anonymous():
        body, mimetype = build()
        return Response(body, mimetype=mimetype)  # never stored: `app.ops.headers.personal_request`
    key = (head.etag, kind, request.query_string)
    stored = cache.pages.get(key)
    if stored is None:
        body, mimetype = build()
        stored = cache.pages.put(key, (body.encode() if isinstance(body, str) else body, mimetype))
    return _public(Response(stored[0], mimetype=stored[1]), head)


def _public(response: Response, head: cache.Head) -> Response:
    """Mark a response shareable (ETag, Last-Modified, and Cache-Control from the security-headers hook), with
    no session cookie for an idle session."""
    share_publicly(response, head.etag, head.computed_at)
    if set(cookie_session.keys()) <= {"_permanent", "_fresh"}:
        cookie_session.clear()  # nothing in it: do not hand every visitor a cookie with a shared page
        cookie_session.modified = False
    return response
