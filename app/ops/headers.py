"""Security headers on every response, and the caching rules: personal responses are never stored
(`personal_request`), public pages are shared.

A public page that is the same for every anonymous visitor (the leaderboard and its views, an entry's public
page, the home and challenge pages, the public leaderboard exports) is marked with `share_publicly`: it gets
its ETag (and Last-Modified where it has one), and this hook gives it `PUBLIC_CACHE_CONTROL`, so browsers,
a reverse proxy or a CDN may keep it for a few seconds and revalidate it cheaply (304) after that.
`app.ops.public_cache` serves the same pages from memory, and answers conditional requests with
`still_valid`, the one rule Flask's views use too.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Optional

from flask import Response, current_app, g, request, session
from flask_login import current_user
from werkzeug.http import parse_date, parse_etags

# Nothing inline: JavaScript lives in static files, styles in stylesheets (no `style` attribute or style block,
# server-rendered SVG charts included; scripts may still set CSS custom properties through the CSSOM, which the
# policy does not govern). No directive allows 'unsafe-inline' (tests/integration/test_pages.py and
# tests/unit/ops/test_ops_no_inline_styles.py; the browser tests fail on any CSP violation a page reports).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Results land minutes apart and the scheduler publishes a new board within seconds: a copy may be used for
# 5 s without asking, and for 30 s more while a proxy revalidates it in the background (a 304 when the board
# has not moved), so a burst of visitors costs the platform one request per page every few seconds.
MAX_AGE = 5
STALE_WHILE_REVALIDATE = 30
PUBLIC_CACHE_CONTROL = f"public, max-age={MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"


def add_security_headers(response: Response) -> Response:
    """after_request: CSP, no sniffing, no framing, a strict referrer policy, HSTS over HTTPS; and the
    caching rule of public pages (`share_publicly`)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if personal_request():
        headers["Cache-Control"] = "no-store"  # replaces any page's own caching header
    elif getattr(response, "shared_publicly", False):
        headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    return response


def personal_request() -> bool:
    """The caching rule, in one place: a response to a signed-in person (session or API token), or to a browser
    holding a session cookie or being given one (its CSRF token, a flash message), is that person's alone and
    never stored by a browser or a proxy (`Cache-Control: no-store`). Anonymous public pages keep their own
    caching headers, and static files are never personal. A fast path serving cached public pages must skip
    these same requests."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    if g.get("api_user") is not None or current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return True
    if session:  # this response sets the cookie (a form's CSRF token): its page holds that token
        return True
    return bool(current_user and current_user.is_authenticated)


def share_publicly(response: Response, etag: str, last_modified: Optional[datetime] = None) -> Response:
    """Mark an anonymous visitor's page as the same for everyone: its ETag and Last-Modified are set here and
    `add_security_headers` gives it `PUBLIC_CACHE_CONTROL`. Only for anonymous visitors: a signed-in page is
    that person's own."""
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.shared_publicly = True  # type: ignore[attr-defined]
    return response


def still_valid(
    etag: str, last_modified: Optional[datetime], if_none_match: Optional[str], if_modified_since: Optional[str]
) -> bool:
    """True when a conditional request already holds this representation: its If-None-Match lists the ETag
    (or is ``*``); without If-None-Match, its If-Modified-Since is no earlier than Last-Modified (whole
    seconds, as HTTP dates are)."""
    if if_none_match:
        return parse_etags(if_none_match).contains(etag)
    if if_modified_since and last_modified is not None:
        since = parse_date(if_modified_since)
        if last_modified.tzinfo is None:  # the database hands back UTC without a zone
            last_modified = last_modified.replace(tzinfo=timezone.utc)
        return since is not None and last_modified.replace(microsecond=0) <= since
    return False


def public_page(body: str, mimetype: str = "text/html") -> Response:
    """A rendered page for this request: shared publicly, with the hash of its body as ETag (304 when the
    visitor holds it), for an anonymous visitor; the plain page for a signed-in one."""
    if current_user.is_authenticated:
        return Response(body, mimetype=mimetype)
    data = body.encode()
    etag = hashlib.sha256(data).hexdigest()[:32]
    if still_valid(etag, None, request.headers.get("If-None-Match"), None):
        return share_publicly(Response(status=304), etag)
    return share_publicly(Response(data, mimetype=mimetype), etag)
