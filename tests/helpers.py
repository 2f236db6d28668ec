"""What tests do that is not building a world: the test databases' lifecycle, posting forms with their CSRF
token, signing in (with the second factor), API bearer headers, the tus protocol's headers, views of the
storage tree, and the platform under a real gunicorn for parallel requests (`LiveServer`). World builders live in `tests/factories.py`.

Test modules import this module (`from tests.helpers import sign_in`); no test module imports a conftest module
(pytest imports conftest files under names of its own, so an imported copy would be a second module with its
own globals).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from html import unescape
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from tests.factories import PASSWORD

BACKENDS = ["sqlite", "postgres"]
TUS = {"Tus-Resumable": "1.0.0"}

# ------------------------------------------------------------------------------------------ test databases

_migrated: set[str] = set()  # the URLs whose schema this test run has built (once each)


def _admin_engine(server_url: str):
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def create_database(server_url: str, name: str) -> str:
    """A fresh database `name` on the PostgreSQL server (dropped first if it exists); returns its URL."""
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, name: str) -> None:
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def migrated_url(database_urls: dict[str, str], backend: str) -> str:
    """The backend's test database with its schema built by the migrations (once per run). Without a
    PostgreSQL server the test is skipped, or fails where PostgreSQL is required (CI, LAGC_REQUIRE_POSTGRES)."""
    from app.migrate import upgrade

    url = database_urls[backend]
    if not url:
        if os.environ.get("CI") or os.environ.get("LAGC_REQUIRE_POSTGRES"):
            pytest.fail("TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL for the tests")
        pytest.skip("no PostgreSQL server (TEST_POSTGRES_URL); scripts/test.sh starts one")
    if url not in _migrated:
        upgrade(url)
        _migrated.add(url)
    return url


def empty_tables(url: str) -> None:
    """Delete every row of every table the migrations built (children first)."""
    from app.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())  # a model without its migration fails test_migrations
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in existing:
                conn.execute(table.delete())
    engine.dispose()


def free_port() -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------- pages, sign-in and tokens

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def submit(client, url: str, data: dict, page: str | None = None, **kwargs):
    """Post a form the way a browser does: fetch the page first and send its CSRF token."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(html)}, **kwargs)


def page_text(response) -> str:
    """A response's HTML with its entities unescaped, to search for what a person reads."""
    return unescape(response.get_data(as_text=True))


def sign_in(client, email: str, password: str = PASSWORD):
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
    from app.db import session_scope, utcnow

    with session_scope(app.extensions["lagc_engine"]) as session:
        credential = credential_of(session, find_user(session, email).id)
        assert credential is not None, f"{email} has no authenticator"
        credential.last_used_step = None
        return code_at(decrypt_secret(credential.secret_encrypted, app.config["SECRET_KEY"]), step_at(utcnow()))


def bearer(client, make_user, db, email: str, role=None) -> dict:
    """Create a user (the `make_user` fixture) with an API token; returns the Authorization header."""
    from app.accounts.models import Role, User
    from app.accounts.services import issue_token

    user_id = make_user(email, role or Role.entrant)
    with db() as session:
        _, plain = issue_token(session, session.get(User, user_id), "tests")
    return {"Authorization": f"Bearer {plain}"}


# ------------------------------------------------------------------------------------ tus and the storage


def meta(**values: str) -> str:
    """A tus Upload-Metadata header value."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def chunk_checksum(data: bytes) -> str:
    """A tus Upload-Checksum header value (sha256)."""
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def storage_tree(root: Path) -> dict[str, str]:
    """Every file under the storage root (relative path -> sha256), ignoring empty folders."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------------- the configuration editor's form

SHA = re.compile(r'id="previewed_sha256" name="previewed_sha256" type="hidden" value="([0-9a-f]*)"')


def previewed_sha(html: str) -> str:
    match = SHA.search(html)
    return match.group(1) if match else ""


def post_config(client, url: str, text: str, action: str = "preview", sha: str | None = None):
    """Send the configuration editor's form: preview, or save with the sha256 of the previewed text."""
    html = client.get(url).get_data(as_text=True)
    data = {"text": text, "action": action, "csrf_token": csrf_token(html)}
    if sha is not None:
        data["previewed_sha256"] = sha
    return client.post(url, data=data)


def preview_then_save(client, url: str, text: str):
    """Preview, then save what was previewed; returns (preview response, save response)."""
    preview = post_config(client, url, text)
    return preview, post_config(client, url, text, "save", previewed_sha(preview.get_data(as_text=True)))


# ----------------------------------------------------------------- a real gunicorn and truly parallel requests

GUNICORN_HOOKS = Path(__file__).with_name("gunicorn_hooks.py")
ACCESS_FORMAT = "%(p)s %(s)s %(m)s %(U)s"  # worker pid, status, method, path


class LiveServer:
    """The platform served as the Procfile's `web` serves it: gunicorn with several worker processes (threads
    in one process would share the GIL and hide races between processes), on a test's database and instance
    folder. `fire` sends requests at the same moment; `pids` and `tracebacks` read what the server logged."""

    def __init__(self, settings, workers: int = 4, extra_env: dict | None = None):
        self.workers, self.folder = workers, Path(settings.instance_dir) / "gunicorn"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.access, self.errors = self.folder / "access.log", self.folder / "error.log"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LAGC_ENV": settings.env,
            "DATABASE_URL": settings.database_url,
            "LAGC_INSTANCE_DIR": str(settings.instance_dir),
            "LAGC_STORAGE_DIR": str(settings.storage_dir),
            "SECRET_KEY": settings.secret_key,
            "LAGC_RATE_LIMIT_SCALE": "0",
            "LAGC_PASSWORD_HASH_COST": settings.password_hash_cost,
            # its own metrics folder: gunicorn's start empties the folder, which must never be the test process's
            "PROMETHEUS_MULTIPROC_DIR": str(settings.instance_dir / "live-metrics"),
            **(extra_env or {}),
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--config",
                str(GUNICORN_HOOKS),
                "--access-logfile",
                str(self.access),
                "--access-logformat",
                ACCESS_FORMAT,
                "--error-logfile",
                str(self.errors),
                "app:create_app()",
            ],
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            start_new_session=True,
        )
        self._wait_for_workers()

    def _wait_for_workers(self, timeout: float = 90) -> None:
        """Until every worker has loaded the application (the hook logs a line each)."""
        deadline = time.monotonic() + timeout
        while self._log().count("worker ready") < self.workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("gunicorn did not start its workers:\n" + self._log())
            time.sleep(0.1)

    def _log(self) -> str:
        return self.errors.read_text() if self.errors.exists() else ""

    def fire(self, count: int, send) -> list:
        """`send(session)` from `count` threads released at the same moment, each with its own HTTP
        connection; returns their responses in thread order."""
        barrier = threading.Barrier(count)
        responses: list = [None] * count

        def run(index: int) -> None:
            with requests.Session() as http:
                barrier.wait()
                responses[index] = send(http)

        threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return responses

    def pids(self, path_part: str = "") -> set[str]:
        """The worker processes that answered requests (whose path contains `path_part`)."""
        lines = self.access.read_text().splitlines() if self.access.exists() else []
        return {line.split()[0] for line in lines if path_part in line}

    def tracebacks(self) -> str:
        """What the workers logged as unexpected errors (empty when none)."""
        return "\n".join(line for line in self._log().splitlines() if "Traceback" in line or "Error" in line)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except Exception:
                os.killpg(self.process.pid, signal.SIGKILL)
