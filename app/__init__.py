"""The Large AI Grand Challenge platform: `create_app` is the one application factory."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from flask import Flask, g, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app.errors import DomainError
from app.extensions import csrf, login_manager
from app.security.ratelimit import RateLimited
from app.settings import Settings


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in routes: a whole number from 0 up to the largest id the database can hold."""

    def __init__(self, url_map, *args, **kwargs):
        from app.db import MAX_DATABASE_ID

        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web application. It never starts the scheduler: that is its own process."""
    settings = settings or Settings.from_env()
    settings.check_safe_to_serve()
    app = Flask(__name__, instance_path=str(settings.instance_dir), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        LAGC=settings,
        TESTING=settings.env == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_SORT_KEYS=False,
    )
    from app.ops.public_cache import install as install_public_cache

    install_public_cache(app, settings)  # inside ProxyFix: it sees the client's scheme and host
    if settings.proxy_hops:
        # Behind a TLS-terminating proxy: the client's address (rate limits) and scheme (HSTS, secure cookies).
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops, x_host=settings.proxy_hops
        )
    # Ids are 32-bit database integers: a larger number in a URL is simply not found (404), never a 500.
    app.url_map.converters["int"] = DatabaseIdConverter
    _init_database(app, settings)
    _init_auth(app)
    from app.accounts.services import HASHER

    HASHER.use(settings.password_hash_cost)  # the process's password-hashing cost (the test suite's is lower)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_cli(app)
    from app.ops.headers import add_security_headers
    from scoring.units import human_bytes

    app.after_request(add_security_headers)
    app.add_template_filter(human_bytes, "human_bytes")  # every size on every page: "621 kB", "60.2 GB"
    return app


def _init_database(app: Flask, settings: Settings) -> None:
    from app.db import close_session, make_engine
    from app import models  # noqa: F401  (every table is known before the first query)

    app.extensions["lagc_engine"] = make_engine(settings.database_url)
    app.teardown_appcontext(close_session)


def _init_auth(app: Flask) -> None:
    from app.accounts.access import require_second_factor
    from app.accounts.models import User
    from app.api import authenticate_token
    from app.db import database_id, get_session
    from app.security import enforce_access
    from app.security.ratelimit import enforce_limits

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        ident = database_id(user_id)
        user = get_session().get(User, ident) if ident is not None else None
        return user if user is not None and user.is_active else None

    @app.before_request
    def _signed_in_sessions_expire() -> None:
        # Only a signed-in session becomes permanent (expiring after LAGC_SESSION_HOURS); anonymous visitors
        # get no cookie at all, so public pages stay cacheable.
        from flask import session

        if "_user_id" in session and not session.permanent:
            session.permanent = True

    app.before_request(authenticate_token)
    app.before_request(require_second_factor)  # ahead of the declared access: enrol first, whatever the page
    app.before_request(enforce_access)
    app.before_request(enforce_limits)


def _register_blueprints(app: Flask) -> None:
    from app import features
    from app.api import bp as api_bp

    features.sections()  # every configuration section has its parser before a challenge is read
    features.metrics()  # every feature's gauges are known to /metrics
    features.api()  # API routes register themselves on the API blueprint when imported
    csrf.exempt(api_bp)  # the API authenticates with Bearer tokens, never with the session cookie
    for module in features.routes():
        app.register_blueprint(module.bp)
    app.register_blueprint(api_bp)


def _register_error_handlers(app: Flask) -> None:
    from app.api.problems import domain_problem, problem, status_of

    def wants_problem() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(RateLimited)
    def rate_limited(exc: RateLimited):
        if wants_problem():
            response = problem(429, f"Too many requests: try again in {exc.retry_after} seconds.")
        else:
            response = make_response(exc.message, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(DomainError)
    def refused(exc: DomainError):
        """A rule's refusal that no view turned into a page of its own: its kind decides the status."""
        if wants_problem():
            return domain_problem(exc)
        status = status_of(exc)
        return render_template(
            "errors/error.html", code=status, title=HTTPStatus(status).phrase, message=exc.message
        ), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_template(
            "errors/error.html",
            code=400,
            title="The form expired or was forged",
            message="Reload the page and send the form again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_problem():
            return problem(exc.code or 500, exc.description or "")
        if exc.code == 401:
            return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
        return render_template("errors/error.html", code=exc.code, title=exc.name, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        visitor = _visitor_without_database()  # before the session closes: its objects are unusable after
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
        if wants_problem():
            return problem(500, "Something went wrong on our side; it has been logged.")
        # The page must not read the database: it may be what failed, and the user object belonged to the
        # closed session (reading it raised DetachedInstanceError, leaving gunicorn's bare error page).
        return render_template(
            "errors/error.html",
            code=500,
            title="Something went wrong",
            message="Something went wrong on our side; it has been logged.",
            current_user=visitor,
            notifications_unread=lambda: 0,
        ), 500


def _visitor_without_database():
    """Who is signed in, as plain values read from what is already loaded (no SQL), for the 500 page."""
    from types import SimpleNamespace

    from flask import session as cookie
    from flask_login import AnonymousUserMixin
    from sqlalchemy import inspect

    user = g.get("_login_user")  # flask-login's user of this request, if it was loaded before the failure
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is None and "_user_id" not in cookie:
        return AnonymousUserMixin()
    loaded = state.dict if state is not None else {}
    if state is not None and not loaded.get("is_active", True):
        return AnonymousUserMixin()
    return SimpleNamespace(
        is_authenticated=True,
        is_anonymous=False,
        is_active=True,
        id=loaded.get("id"),
        email=loaded.get("email", "your account"),
        display_name=loaded.get("display_name", ""),
        role=loaded.get("role"),
    )


def _register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
