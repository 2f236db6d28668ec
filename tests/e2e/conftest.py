"""End-to-end fixtures: the platform started as a real process (web server and scheduler, as the README's
first command does) on a free port with its own SQLite database, driven in Debian's Chromium through
Playwright. Screenshots go to test-artifacts/. Signing in through the pages is in `tests/e2e/signin.py`."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.signin import SERVER_DATABASE_ENV
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def server_instance(tmp_path_factory) -> Path:
    """The running platform's instance folder (its SQLite database is `platform.db` inside)."""
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def server_database_url(server_instance) -> str:
    """The running platform's database, for tests that arrange data the pages cannot create."""
    return f"sqlite:///{server_instance / 'platform.db'}"


@pytest.fixture(scope="session")
def server_db(server, server_database_url):
    """`server_db()`: a session on the running platform's database, committed when the block ends (for worlds
    built with `tests.factories` next to the demo)."""
    from app.db import make_engine, session_scope

    engine = make_engine(server_database_url)
    yield lambda: session_scope(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def server(server_instance, server_database_url):
    """Base URL of a running platform with the demo loaded."""
    instance = server_instance
    os.environ[SERVER_DATABASE_ENV] = server_database_url
    port = free_port()
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
