"""Who may use which page or API route, and how often (`ratelimit`).

Every view declares its audience with one of the decorators below; `enforce_access` (a before_request hook)
refuses a request whose endpoint declares nothing, so a new route cannot forget to say who may use it.
Roles are compared by value, so this layer sits below the accounts feature that defines them; the rules
about a person (the second factor, API tokens) belong to accounts (`app.accounts.access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from flask import abort, current_app, g, request
from flask_login import current_user


@dataclass(frozen=True)
class Access:
    """A view's declared audience: anyone, any signed-in person, or people with one of `roles`."""

    audience: str  # "public" | "signed_in" | "roles" | "agent" (a machine with its own token, e.g. a site)
    roles: frozenset[str] = frozenset()  # the roles' values ("organiser", ...)

    def describe(self) -> str:
        if self.audience == "roles":
            return "role: " + ", ".join(sorted(self.roles))
        return self.audience.replace("_", " ")

    def admits(self, role: Enum | str) -> bool:
        """Whether a person with this role may use the view (any role, unless the view names roles)."""
        return self.audience != "roles" or _value(role) in self.roles


def _value(role: Enum | str) -> str:
    return role.value if isinstance(role, Enum) else str(role)


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


def roles(*allowed: Enum) -> Callable:
    """Only people with one of these roles (`app.accounts.models.Role`) may use this view."""
    return _declare(Access("roles", frozenset(_value(role) for role in allowed)))


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
    """before_request: apply the endpoint's declared access; 401 when not signed in, 403 for a wrong role.
    (The accounts feature's second-factor check runs just before it, see `app.accounts.access`.)"""
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
        return
    user = current_identity()
    if user is None:
        abort(401)
    if not access.admits(user.role):
        abort(403)
