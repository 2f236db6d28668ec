"""Integration fixtures: the application against a real database whose schema the Alembic migrations
built, on SQLite and on PostgreSQL (TEST_POSTGRES_URL, started by scripts/test.sh). Tables are emptied
after each test. Worlds are built with `tests/factories.py`; sign-in, forms and tokens are in `tests/helpers.py`."""

from __future__ import annotations

import os

import pytest

from app import create_app
from app.accounts.models import Role
from app.db import session_scope
from app.settings import Settings
from tests import factories
from tests.helpers import BACKENDS, LiveServer, create_database, drop_database, empty_tables, migrated_url


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory) -> dict[str, str]:
    """A fresh SQLite file and a fresh PostgreSQL database of this test run's own (runs may overlap)."""
    server = os.environ.get("TEST_POSTGRES_URL", "")
    postgres = create_database(server, f"lagc_test_{os.getpid()}") if server else ""
    yield {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}", "postgres": postgres}
    if postgres:
        drop_database(server, postgres.rsplit("/", 1)[1])


@pytest.fixture(params=BACKENDS)
def database_url(request, database_urls) -> str:
    url = migrated_url(database_urls, request.param)
    yield url
    empty_tables(url)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        env="testing",
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        secret_key="test-secret-" + "x" * 32,
        password_hash_cost="cheapest",  # thousands of accounts: argon2's smallest parameters (test suite only)
    )


@pytest.fixture
def app(settings):
    application = create_app(settings)
    yield application
    application.extensions["lagc_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def limiter_clock(monkeypatch):
    """The rate limiter's clock held at the start of a window (its windows are fixed, aligned on the epoch),
    so a test's burst of requests never straddles two windows, which would reset the count half-way."""
    from types import SimpleNamespace

    monkeypatch.setattr("app.security.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_000.0))  # 3600-aligned


@pytest.fixture
def db(app):
    """A session on the test database, committed when the block ends."""
    return lambda: session_scope(app.extensions["lagc_engine"])


@pytest.fixture
def make_user(db, app):
    """Create an account; returns its id. Organisers and judges come enrolled with an authenticator (the demo
    secret of their e-mail; `tests.helpers.totp_code` computes their codes) unless `second_factor=False`."""

    def make(
        email: str, role: Role = Role.entrant, password: str = factories.PASSWORD, second_factor: bool = True
    ) -> int:
        with db() as session:
            key = app.config["SECRET_KEY"] if second_factor else None
            return factories.user(session, email, role, password=password, secret_key=key).id

    return make


@pytest.fixture
def challenge(db):
    """The 2024 challenge's rules with its phases open now for entrants (see `factories.open_config_text`)."""
    with db() as session:
        return factories.open_challenge(session).slug


@pytest.fixture
def closed_challenge(db):
    """The bundled 2024 challenge as it is: every phase is over, so entrants' actions are refused."""
    with db() as session:
        return factories.closed_challenge(session).slug


@pytest.fixture
def live_env() -> dict:
    """Extra environment for the `live` server (a test module overrides it, e.g. with a fake Hub's endpoint)."""
    return {}


@pytest.fixture
def live(settings, app, live_env):
    """The platform under gunicorn with four worker processes on this test's database and instance folder (the
    same as `app`'s, so `db` and the storage are shared), for requests that really run at the same time."""
    server = LiveServer(settings, workers=4, extra_env=live_env)
    yield server
    server.stop()
