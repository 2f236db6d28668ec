"""Security headers on every response, and the one rule on caching personal responses."""
from __future__ import annotations

from flask import Response, current_app, g, request, session
from flask_login import current_user

# Nothing inline: JavaScript lives in static files, styles in stylesheets (no `style` attribute or style block,
# server-rendered SVG charts included; scripts may still set CSS custom properties through the CSSOM, which the
# policy does not govern). No directive allows 'unsafe-inline' (tests/integration/test_pages.py and
# tests/unit/ops/test_ops_no_inline_styles.py; the browser tests fail on any CSP violation a page reports).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


def add_security_headers(response: Response) -> Response:
    """after_request: CSP, no sniffing, no framing, a strict referrer policy, HSTS over HTTPS."""
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
