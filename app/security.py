"""Who may use which page or API route.

Every view declares its audience with one of the decorators below; `enforce_access` (a before_request hook)
refuses a request whose endpoint declares nothing, so a new route cannot forget to say who may use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from app.accounts.models import Role


@dataclass(frozen=True)
class Access:
    """A view's declared audience: anyone, any signed-in person, or people with one of `roles`."""

    audience: str  # "public" | "signed_in" | "roles" | "agent" (a machine with its own token, e.g. a site)
    roles: frozenset[Role] = frozenset()

    def describe(self) -> str:
        if self.audience == "roles":
            return "role: " + ", ".join(sorted(r.value for r in self.roles))
        return self.audience.replace("_", " ")


def _declare(access: Access) -> Callable:
    def decorator(view: Callable) -> Callable:
        view.access = access  # type: ignore[attr-defined]
        return view
    return decorator


def public(view: Callable) -> Callable:
    """Anyone may use this view, signed in or not."""
    return _declare(Access("public"))(view)


def signed_in(view: Callable) -> Callable:
    """Any signed-in person may use this view."""
    return _declare(Access("signed_in"))(view)


def roles(*allowed: Role) -> Callable:
    """Only people with one of these roles may use this view."""
    return _declare(Access("roles", frozenset(allowed)))


def agent(view: Callable) -> Callable:
    """Only a machine authenticated by its own token may use this API view (see `app.api.token_realm`)."""
    return _declare(Access("agent"))(view)


def access_of(endpoint: str | None) -> Access | None:
    """The declared access of an endpoint, or None when it declares none."""
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return Access("public")  # the app's and each feature's static files
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def current_identity():
    """The person making the request: from an API token (set by the API blueprint) or the session."""
    if g.get("api_request"):
        return g.get("api_user")  # API routes never fall back to the session cookie
    return current_user if current_user.is_authenticated else None


def enforce_access() -> None:
    """before_request: apply the endpoint's declared access; 401 when not signed in, 403 for a wrong role."""
    if request.endpoint is None:
        return  # 404 / 405 are answered by Flask itself
    access = access_of(request.endpoint)
    if access is None:
        current_app.logger.error("endpoint %s declares no access; refused", request.endpoint)
        abort(403)
    if access.audience == "agent":
        if g.get("api_agent") is None:
            abort(401)
        return
    if access.audience == "public":
        if g.get("api_request") and g.get("api_user") is not None:
            require_second_factor(g.api_user)  # public pages stay open: anyone may see them signed out
        return
    user = current_identity()
    if user is None:
        abort(401)
    require_second_factor(user)
    if access.audience == "roles" and Role(user.role) not in access.roles:
        abort(403)



# What an organiser or judge without a second factor may still use: the enrolment page and signing out.
SECOND_FACTOR_EXEMPT = frozenset({"accounts.two_factor", "accounts.sign_out"})


def require_second_factor(user) -> None:
    """Organisers and judges without a confirmed authenticator can do nothing but enrol one: pages for
    signed-in people redirect to the enrolment page, the API answers 403 for their tokens."""
    from app.accounts.twofactor import is_enrolled, requires_second_factor
    from app.db import get_session

    endpoint = request.endpoint or ""
    if endpoint in SECOND_FACTOR_EXEMPT or endpoint == "static" or endpoint.endswith(".static"):
        return
    if not requires_second_factor(user) or is_enrolled(get_session(), user.id):
        return
    if g.get("api_request"):
        from app.api.problems import problem

        abort(problem(403, "enable two-factor authentication: organisers and judges sign in with an "
                           "authenticator app (at /account/2fa) before they can use the platform or the API"))
    abort(redirect(url_for("accounts.two_factor")))
