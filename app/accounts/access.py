"""The access rule that belongs to accounts: organisers and judges enrol a second factor before they may use
anything else. A before_request hook installed by `create_app` just ahead of `app.security.enforce_access`
(which then applies each view's declared audience); who a bearer token is, is `services.user_for_token`.
"""

from __future__ import annotations

from flask import abort, g, redirect, request, url_for

from app.accounts.twofactor import is_enrolled, requires_second_factor
from app.db import get_session
from app.errors import DomainError, Kind
from app.security import access_of, current_identity

# What an organiser or judge without a second factor may still use: the enrolment page and signing out.
SECOND_FACTOR_EXEMPT = frozenset({"accounts.two_factor", "accounts.sign_out"})
ENROL_FIRST = (
    "enable two-factor authentication: organisers and judges sign in with an authenticator app "
    "(at /account/2fa) before they can use the platform or the API"
)


def require_second_factor() -> None:
    """before_request: organisers and judges without a confirmed authenticator can do nothing but enrol one.
    Pages for signed-in people redirect to the enrolment page; the API refuses their tokens (403). Public
    pages stay open to anyone signed out, and a view that needs someone who is not there is answered 401
    by `enforce_access`, which runs next."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in SECOND_FACTOR_EXEMPT or endpoint == "static" or endpoint.endswith(".static"):
        return
    access = access_of(endpoint)
    if access is None:
        return  # refused by enforce_access
    if access.audience == "public":
        user = g.get("api_user") if g.get("api_request") else None
    else:
        user = current_identity()
    if user is None or not requires_second_factor(user) or is_enrolled(get_session(), user.id):
        return
    if g.get("api_request"):
        raise DomainError(ENROL_FIRST, kind=Kind.forbidden)
    abort(redirect(url_for("accounts.two_factor")))
