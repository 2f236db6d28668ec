"""A restarted agent against the platform over real HTTP (the app served in a thread) and the real local Slurm:
a job its predecessor submitted but never recorded is found by its name and folder, never submitted again,
and stopped when an organiser cancelled the evaluation meanwhile."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from sqlmodel import Session
from werkzeug.serving import make_server

from app.accounts.models import Role
from evaluation import services
from evaluation.agent.settings import AgentSettings
from evaluation.agent.state import BOUND, DONE, AgentState
from evaluation.agent.work import Agent
from evaluation.models import Evaluation, EvaluationState as S

from ._sites import SiteAgent, cycle, register, sites_challenge

pytestmark = [pytest.mark.slurm]


@pytest.fixture
def served(app):
    """The platform's URL: the app behind a real HTTP server in this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _squeue_state(job_id: str) -> str:
    out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def test_a_cancel_that_meets_a_job_the_crashed_agent_submitted_but_never_recorded_stops_that_job(
    app, client, db, settings, make_user, served, tmp_path
):
    sites_challenge(db, settings)
    token = register(db, "alpha")
    site = SiteAgent(client, token)
    site.heartbeat()
    [ev] = cycle(app, settings)
    [lease] = site.leases().get_json()["leases"]
    workdir = tmp_path / "agent"
    job_dir = workdir / "jobs" / str(ev.id) / "attempt-1"
    for event, body in (("staged", {}), ("submitting", {"job_dir": str(job_dir)})):
        assert site.event(ev.id, 1, event, **body).status_code == 200
    # The crashed agent: bound, its sbatch went through, and it died before writing the job id down.
    job_dir.mkdir(parents=True)
    job_id = (
        subprocess.run(
            [
                "sbatch",
                "--parsable",
                "-J",
                lease["job_name"],
                "-D",
                str(job_dir),
                "-o",
                "/dev/null",
                "--wrap",
                "sleep 600",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        .stdout.strip()
        .split(";")[0]
    )
    try:
        state = AgentState(workdir)
        state.add(lease).update(phase=BOUND, job_dir=str(job_dir))
        state.save()
        organiser = make_user("boss@example.eu", Role.organiser)
        with db() as session:
            services.request_cancel(session, session.get(Evaluation, ev.id), organiser)

        successor = Agent(AgentSettings(platform=served, site="alpha", workdir=workdir, token=token))
        successor.state.load()
        record, deadline = successor.state.leases[AgentState.key(ev.id, 1)], time.monotonic() + 90
        while record["phase"] != DONE and time.monotonic() < deadline:
            successor.cycle()
            time.sleep(0.5)
        assert record["phase"] == DONE and record["job_id"] == job_id  # adopted, not submitted again
        assert _squeue_state(job_id) in ("", "CANCELLED", "COMPLETING")
        with Session(app.extensions["lagc_engine"]) as session:
            ended = session.get(Evaluation, ev.id)
            assert S(ended.state) == S.cancelled and ended.job_id == job_id
    finally:
        subprocess.run(["scancel", job_id], capture_output=True, timeout=30)
