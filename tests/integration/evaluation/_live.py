"""A real platform for the site tests: gunicorn and the scheduler as processes of their own, on their own
database and instance folder, and site agents as processes with work folders of their own (they get the
platform's URL and a token, nothing else)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlmodel import Session, select

from app.db import make_engine
from app.settings import Settings
from evaluation.models import Evaluation
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


class Live:
    """A running platform: ``start_web``/``stop_web`` restart gunicorn alone (the scheduler keeps going)."""

    def __init__(self, root: Path, database_url: str, lease_seconds: float = 5.0):
        self.root, self.database_url = root, database_url
        self.instance = root / "platform"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "LAGC_INSTANCE_DIR": str(self.instance),
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "FLASK_APP": "app",
            "LAGC_ENV": "testing",
            "SECRET_KEY": "live-sites-test-" + "x" * 32,
            "LAGC_SCHEDULER_INTERVAL": "1",
            "LAGC_SITE_LEASE_SECONDS": str(lease_seconds),
            "HF_HUB_OFFLINE": "1",
        }
        self.settings = Settings(
            env="testing", instance_dir=self.instance, database_url=database_url, site_lease_seconds=lease_seconds
        )
        self.engine = make_engine(database_url)
        self.web: subprocess.Popen | None = None
        self.scheduler: subprocess.Popen | None = None
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def flask(self, *args: str) -> str:
        proc = subprocess.run(
            [str(BIN / "flask"), *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    def add_site(self, name: str, cluster: str = "local-slurm") -> str:
        return json.loads(self.flask("sites", "add", name, "--cluster", cluster))["token"]

    def start(self) -> "Live":
        self.flask("db", "upgrade")
        self.start_web()
        self.scheduler = self._spawn("scheduler", [sys.executable, "-m", "evaluation.scheduler"])
        return self

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "a")
        return subprocess.Popen(
            argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_web(self) -> None:
        self.web = self._spawn(
            "web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "app:create_app()"]
        )
        wait_for(
            lambda: _answers(self.url + "/healthz"),
            60,
            "the platform did not start: " + (self.logs / "web.log").read_text()[-2000:],
        )

    def stop_web(self) -> None:
        _stop(self.web)
        self.web = None

    def stop_scheduler(self) -> None:
        _stop(self.scheduler)
        self.scheduler = None

    def stop(self) -> None:
        for process in (self.web, self.scheduler):
            _stop(process)
        self.engine.dispose()

    def evaluation(self, evaluation_id: int) -> Evaluation:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(Evaluation, evaluation_id)

    def evaluations(self) -> list[Evaluation]:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(select(Evaluation).order_by(Evaluation.id)).all()


class AgentProcess:
    """``python -m evaluation.agent`` for one site, in a work folder of its own."""

    def __init__(
        self, live: Live, site: str, token: str, workdir: Path, poll: float = 0.5, extra: tuple[str, ...] = ()
    ):
        """``extra``: more of the agent's options (e.g. the gateway mode's ``--ssh ...``)."""
        self.live, self.site, self.token, self.workdir, self.poll = live, site, token, workdir, poll
        self.extra = extra
        self.process: subprocess.Popen | None = None
        self.log = live.logs / f"agent-{site}.log"

    def start(self) -> "AgentProcess":
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LAGC_"))}
        env.update(LAGC_SITE_TOKEN=self.token, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "evaluation.agent",
                "--platform",
                self.live.url,
                "--site",
                self.site,
                "--workdir",
                str(self.workdir),
                "--poll",
                str(self.poll),
                "--max-backoff",
                "2",
                *self.extra,
            ],
            env=env,
            cwd=self.workdir,
            stdout=open(self.log, "a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def signal(self, sig: int) -> None:
        os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a login node's out-of-memory killer or an administrator would."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGCONT)
            _stop(self.process)


def wait_for(condition, timeout: float, message: str, pause: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(message if isinstance(message, str) else message())
        time.sleep(pause)


def _answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
