"""Security headers on every response."""
from __future__ import annotations

from flask import Response, request

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
    return response
