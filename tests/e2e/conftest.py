"""End-to-end fixtures: the platform started as a real process (web server and scheduler, as the README's
first command does) on a free port with its own SQLite database, driven in Debian's Chromium through
Playwright. Screenshots go to test-artifacts/."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_instance(tmp_path_factory) -> Path:
    """The running platform's instance folder (its SQLite database is `platform.db` inside)."""
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def server_database_url(server_instance) -> str:
    """The running platform's database, for tests that arrange data the pages cannot create."""
    return f"sqlite:///{server_instance / 'platform.db'}"


DEMO_PASSWORD = "demo-password-2026"
# The running platform's database URL, set by the `server` fixture (in the environment: test modules may import
# this file under another module name than pytest's own copy).
SERVER_DATABASE_ENV = "LAGC_E2E_SERVER_DATABASE_URL"


def totp_code(email: str) -> str:
    """The current authenticator code of a demo organiser or judge (their secret derives from the e-mail, as
    `flask demo load` prints it). The running platform first forgets the last step used, so tests may sign the
    same person in several times within one 30-second window."""
    from app.accounts.totp import code_at, demo_secret, step_at
    from app.db import utcnow

    if os.environ.get(SERVER_DATABASE_ENV):
        _forget_last_code(os.environ[SERVER_DATABASE_ENV], email)
    return code_at(demo_secret(email), step_at(utcnow()))


def _forget_last_code(database_url: str, email: str) -> None:
    import app.models  # noqa: F401  (every table, so the foreign keys resolve)
    from app.accounts.services import find_user
    from app.accounts.twofactor import credential_of
    from app.db import make_engine, session_scope

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        user = find_user(session, email)
        credential = credential_of(session, user.id) if user is not None else None
        if credential is not None:
            credential.last_used_step = None
            session.add(credential)
    engine.dispose()


def sign_in(page, server: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the pages: the password, then (organisers and judges) the authenticator code."""
    page.goto(server + "/signin")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    complete_second_step(page, email)


def complete_second_step(page, email: str) -> None:
    """On the code page after the password step, type the current code of the demo secret; else nothing."""
    if page.url.split("?")[0].endswith("/signin/code"):
        page.get_by_label("Code").fill(totp_code(email))
        page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="session")
def server(server_instance, server_database_url):
    """Base URL of a running platform with the demo loaded."""
    instance = server_instance
    os.environ[SERVER_DATABASE_ENV] = server_database_url
    port = _free_port()
    env = {**os.environ, "LAGC_INSTANCE_DIR": str(instance), "PORT": str(port), "FLASK_APP": "app",
           "LAGC_SCHEDULER_INTERVAL": "1", "WEB_CONCURRENCY": "2"}
    env.pop("DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask"]
    for args in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(flask + args, env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(instance / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "app.launcher"], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/challenges", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the platform did not start:\n" + (instance / "server.log").read_text())
            time.sleep(0.2)
    yield base
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI") or os.environ.get("LAGC_REQUIRE_POSTGRES"):
            pytest.fail("Chromium is missing: scripts/test.sh installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (scripts/services/chromium.sh install)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
