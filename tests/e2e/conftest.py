"""End-to-end fixtures: the platform started as a real process (web server and scheduler, as the README's
first command does) on a free port with its own SQLite database, driven in Debian's Chromium through
Playwright. Every page a test loads is checked by axe-core and the project's own checks (tests/e2e/pagecheck.py)
at desktop and phone width, and must report no Content-Security-Policy violation. Screenshots go to the
artefacts folder: tests/e2e/artifacts/, or `LAGC_E2E_ARTIFACTS`. Signing in through the pages is in
`tests/e2e/signin.py`."""

from __future__ import annotations

import json
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.pagecheck import DESKTOP, PageChecker, axe_source, install_step_hooks
from tests.e2e.signin import SERVER_DATABASE_ENV
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


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
    env = {
        **os.environ,
        "LAGC_INSTANCE_DIR": str(instance),
        "PORT": str(port),
        "FLASK_APP": "app",
        "LAGC_SCHEDULER_INTERVAL": "1",
        "WEB_CONCURRENCY": "2",
    }
    env.pop("DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask"]
    for args in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(flask + args, env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(instance / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.launcher"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded 2-core machine starts gunicorn and the scheduler slowly
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/challenges", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # the launcher, gunicorn and the scheduler alike
                pytest.fail("the platform did not start:\n" + (instance / "server.log").read_text())
            time.sleep(0.2)
    _wait_for_boards(base, process, instance)
    yield base
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def _required() -> bool:
    """Whether a missing test tool fails the run (CI and the test command) rather than skipping."""
    return bool(os.environ.get("CI") or os.environ.get("LAGC_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder screenshots go to, for a reviewer: `LAGC_E2E_ARTIFACTS`, else tests/e2e/artifacts/."""
    folder = Path(os.environ.get("LAGC_E2E_ARTIFACTS") or ROOT / "tests" / "e2e" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait_for_boards(base: str, process, instance: Path) -> None:
    """Wait until the scheduler has computed every challenge's board (a request never computes one: until
    then the board answers 503, "being prepared")."""
    slugs = [c["slug"] for c in json.loads(urllib.request.urlopen(base + "/api/v1/challenges").read())["challenges"]]
    deadline = time.monotonic() + 90
    for slug in slugs:
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/leaderboard?challenge={slug}", timeout=10)
                break
            except urllib.error.HTTPError as exc:
                if exc.code != 503 or process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"the board of {slug} was not prepared ({exc.code}):\n" + (instance / "server.log").read_text()
                    )
                time.sleep(0.5)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if _required():
            pytest.fail("Chromium is missing: scripts/test.sh installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (scripts/services/chromium.sh install)")
    from playwright.sync_api import sync_playwright

    install_step_hooks()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe() -> str:
    """axe-core's source, fetched beforehand by scripts/services/axe.sh (pinned version and hash)."""
    try:
        return axe_source()
    except FileNotFoundError as missing:
        if _required():
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def audited() -> set:
    """(person, method, page, width) already audited in this session: each is checked once."""
    return set()


@pytest.fixture
def new_page(browser, axe, audited, artifacts, request):
    """Open a page in a fresh browser context (a person of their own), checked like `page`; at the test's end
    each page's screenshot is saved and the test fails on any accessibility problem or CSP violation."""
    opened = []

    def open_page(viewport: dict = DESKTOP):
        context = browser.new_context(viewport=viewport)
        checker = PageChecker(context.new_page(), axe, audited).attach()
        opened.append(checker)
        return checker.page

    yield open_page
    reports = []
    for number, checker in enumerate(opened):
        if not checker.page.is_closed():
            checker.detach()
            suffix = f"-{number}" if number else ""
            checker.page.screenshot(path=str(artifacts / f"{request.node.name}{suffix}.png"), full_page=True)
        reports.append(checker.report())
        checker.page.context.close()
    report = "\n".join(line for line in reports if line)
    if report:
        pytest.fail(f"accessibility or CSP problems on the pages this test visited:\n{report}", pytrace=False)


@pytest.fixture
def page(new_page):
    """A page at desktop width (1280x800), checked on every document it loads (see `new_page`)."""
    return new_page()
