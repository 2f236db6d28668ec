"""Integration fixtures: the application against a real database whose schema the Alembic migrations
built, on SQLite and on PostgreSQL (TEST_POSTGRES_URL, started by scripts/test.sh). Tables are emptied
after each test."""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from app import create_app
from app.db import make_engine, session_scope
from app.migrate import upgrade
from app.settings import Settings

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory) -> dict[str, str]:
    """A fresh SQLite file and a fresh PostgreSQL database of this test run's own (runs may overlap)."""
    server = os.environ.get("TEST_POSTGRES_URL", "")
    postgres = _create_database(server, f"lagc_test_{os.getpid()}") if server else ""
    yield {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}", "postgres": postgres}
    if postgres:
        _drop_database(server, postgres.rsplit("/", 1)[1])


def _admin_engine(server_url: str):
    from sqlalchemy import create_engine

    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def _create_database(server_url: str, name: str) -> str:
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(server_url: str, name: str) -> None:
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


_migrated: set[str] = set()


@pytest.fixture(params=BACKENDS)
def database_url(request, database_urls) -> str:
    url = database_urls[request.param]
    if not url:
        if os.environ.get("CI") or os.environ.get("LAGC_REQUIRE_POSTGRES"):
            pytest.fail("TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL for the tests")
        pytest.skip("no PostgreSQL server (TEST_POSTGRES_URL); scripts/test.sh starts one")
    if url not in _migrated:
        upgrade(url)
        _migrated.add(url)
    yield url
    _empty_tables(url)


def _empty_tables(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())  # a model without its migration fails test_migrations
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in existing:
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(env="testing", database_url=database_url, instance_dir=tmp_path / "instance",
                    secret_key="test-secret-" + "x" * 32)


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

    monkeypatch.setattr("app.ops.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_000.0))  # 3600-aligned


@pytest.fixture
def db(app):
    """A session on the test database, committed when the block ends."""
    return lambda: session_scope(app.extensions["lagc_engine"])


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def submit(client, url: str, data: dict, page: str | None = None, **kwargs):
    """Post a form the way a browser does: fetch the page first and send its CSRF token."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(html)}, **kwargs)


@pytest.fixture
def make_user(db, app):
    """Create an account; organisers and judges come enrolled with an authenticator (the demo secret of their
    e-mail, `totp_code` computes their codes) unless `second_factor=False`."""
    from app.accounts.models import Role
    from app.accounts.services import create_user
    from app.accounts.totp import demo_secret
    from app.accounts.twofactor import enrol_with_secret, requires_second_factor

    def make(email: str, role: Role = Role.entrant, password: str = "correct-horse-battery",
             second_factor: bool = True) -> int:
        with db() as session:
            user = create_user(session, email, password, email.split("@")[0], role)
            if second_factor and requires_second_factor(user):
                enrol_with_secret(session, user, demo_secret(email), app.config["SECRET_KEY"])
            return user.id
    return make


# A moment inside the bundled 2024 challenge's registration phase, for fixtures that set up its (closed)
# history through the services: `register_team(..., now=IN_2024_REGISTRATION)`.
IN_2024_REGISTRATION = datetime(2023, 12, 1, tzinfo=timezone.utc)
BUNDLED_2024 = "lagc-2024.toml"


def open_config_text(text: str, now: datetime | None = None) -> str:
    """A challenge configuration with its phases replaced by ones around `now` (default: the present), so
    the tests can act as entrants: the running phase allows registering, applying and submitting (`allows`);
    submission, evaluation, judging and the award follow, a month each (the award a year)."""
    from app.demo import without_sections

    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    spans = (("registration", "Registration, eligibility and submission", -30, 30, '["register", "apply", "submit"]'),
             ("submission", "Checkpoint submission", 30, 60, None), ("evaluation", "Evaluation", 60, 90, None),
             ("judging", "Judging", 90, 120, None), ("award", "Award and release", 120, 485, None))
    iso = lambda days: (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    phases = "".join(f'\n[[phases]]\nkey = "{key}"\nname = "{name}"\nstarts = {iso(a)}\nends = {iso(b)}\n'
                     + (f"allows = {allows}\n" if allows else "") for key, name, a, b, allows in spans)
    return without_sections(text, ("phases",)).rstrip("\n") + "\n" + phases


@pytest.fixture
def challenge(db):
    """The 2024 challenge's rules with its phases open now for entrants (see `open_config_text`)."""
    from app.challenges.services import load_config_text
    from app.settings import BUNDLED_CHALLENGES

    with db() as session:
        return load_config_text(session, open_config_text((BUNDLED_CHALLENGES / BUNDLED_2024).read_text())).slug


@pytest.fixture
def closed_challenge(db):
    """The bundled 2024 challenge as it is: every phase is over, so entrants' actions are refused."""
    from app.challenges.services import load_config_file
    from app.settings import BUNDLED_CHALLENGES

    with db() as session:
        return load_config_file(session, BUNDLED_CHALLENGES / BUNDLED_2024).slug


def sign_in(client, email: str, password: str = "correct-horse-battery"):
    """Sign in through the pages; for a person with an authenticator, the second step too (with `totp_code`).
    Returns the last response."""
    response = submit(client, "/signin", {"email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"].split("?")[0].endswith("/signin/code"):
        response = submit(client, "/signin/code", {"code": totp_code(client.application, email)})
    return response


def totp_code(app, email: str) -> str:
    """The current authenticator code of an enrolled person, read from their stored secret. It forgets the last
    step used first, so a test may sign the same person in several times within one 30-second window."""
    from app.accounts.services import find_user
    from app.accounts.totp import code_at, step_at
    from app.accounts.twofactor import credential_of, decrypt_secret
    from app.db import utcnow

    with session_scope(app.extensions["lagc_engine"]) as session:
        credential = credential_of(session, find_user(session, email).id)
        assert credential is not None, f"{email} has no authenticator"
        credential.last_used_step = None
        return code_at(decrypt_secret(credential.secret_encrypted, app.config["SECRET_KEY"]), step_at(utcnow()))


def bearer(client, make_user, db, email: str, role=None) -> dict:
    """Create a user with an API token; returns the Authorization header."""
    from app.accounts.models import Role, User
    from app.accounts.services import issue_token

    user_id = make_user(email, role or Role.entrant)
    with db() as session:
        _, plain = issue_token(session, session.get(User, user_id), "tests")
    return {"Authorization": f"Bearer {plain}"}


Path  # re-exported for tests that build files
