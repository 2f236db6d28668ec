"""Sites with real parts: a real platform (gunicorn and the scheduler as processes), real site agents as
processes with work folders of their own (they get the platform's URL and a token, nothing else), the real
local Slurm cluster, and real lm-eval on the demo suite with the tiny model.

- The scores equal lm-eval run by hand on the same files, to the last digit, though the agent was killed
  (SIGKILL) during the job and a new one took over, and gunicorn was stopped until the job had ended:
  exactly one Slurm job, reported once the platform was back, ingested once.
- A lease whose job never started (its agent frozen) expires and moves to the other site, which runs it;
  an upload whose bytes do not match their sha256 is refused.
- The same agent on a gateway host (``--ssh``) reaches the site only through the real OpenSSH server: Slurm
  over one multiplexed connection, files with rsync; its connection cut during the job, it reconnects and the
  results are ingested.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.db import session_scope
from evaluation.environment import environment_lock_sha256
from evaluation.models import EvaluationState as S, GpuCharge, TaskResult
from evaluation.runners.slurm import SlurmRunner
from evaluation.runners.slurm_states import job_ids_in, job_ids_named_in_jobcomp
from tests.helpers import create_database, drop_database

from ._live import AgentProcess, Live, wait_for
from ._platform import TASKS, accepted_submission, challenge_text, make_challenge, make_team
from ._support import local_slurm_profile

pytestmark = [pytest.mark.slurm]
ROOT = Path(__file__).resolve().parents[3]
METRICS = {"lagc_capitals_mc": "acc", "lagc_capitals_yesno": "acc", "lagc_capitals_gen": "exact_match"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One platform for the module, on a PostgreSQL database of its own (SQLite without a server)."""
    root = tmp_path_factory.mktemp("sites-live")
    server, name = os.environ.get("TEST_POSTGRES_URL", ""), f"lagc_sites_{os.getpid()}"
    url = create_database(server, name) if server else f"sqlite:///{root / 'platform.db'}"
    platform = Live(root, url, lease_seconds=4).start()
    yield platform
    platform.stop()
    if server:
        drop_database(server, name)


def _submit(live: Live, slug: str, email: str, model: Path | None = None, behaviour: str = "ok", **options) -> int:
    """A challenge run by sites (created once per slug), a team and an accepted submission: its id."""
    text = challenge_text(
        runner="sites", cluster="local-slurm", clusters=["local-slurm"], max_concurrent={"local-slurm": 2}, **options
    ).replace('slug = "demo"', f'slug = "{slug}"')
    with session_scope(live.engine) as session:
        challenge = make_challenge(session, text)
        user, team = make_team(session, challenge, email)
        return accepted_submission(session, live.settings, challenge, team, user, model=model, behaviour=behaviour).id


def _evaluation_of(live: Live, submission_id: int):
    found = [ev for ev in live.evaluations() if ev.submission_id == submission_id]
    return found[0] if found else None


def slurm_job_ids(name: str, job_dir: str) -> set[str]:
    """Every Slurm job of that name run in that folder, live or finished (the controller and the jobcomp
    record; other tests on this shared cluster use the same names elsewhere)."""
    runner = SlurmRunner(local_slurm_profile())
    proc = subprocess.run(
        ["squeue", "-h", "--states=all", "--name", name, "-o", "%i|%Z"], capture_output=True, text=True, check=True
    )
    _, jobcomp = runner.accounting()
    return set(job_ids_in(proc.stdout, job_dir)) | set(
        job_ids_named_in_jobcomp(Path(jobcomp).read_text(), name, job_dir)
    )


@pytest.mark.lmeval
def test_an_agent_killed_mid_job_and_a_platform_down_until_it_ended_still_give_lm_evals_own_scores_once(
    live, tmp_path, tiny_model, suite, by_hand
):
    workdir = tmp_path / "alpha"
    agent = AgentProcess(live, "alpha", live.add_site("alpha"), workdir).start()
    try:
        submission = _submit(
            live,
            "sites-real",
            "real@example.eu",
            model=tiny_model,
            suite_dir=suite[0],
            lm_eval=("lm_eval",),
            tasks=[f"{t}:{m}" for t, m in METRICS.items()],
        )
        ev = wait_for(
            lambda: (e := _evaluation_of(live, submission)) and S(e.state) == S.running and e,
            300,
            lambda: f"not running: {_evaluation_of(live, submission)}",
        )
        agent.kill()  # SIGKILL in the middle of the job
        agent = AgentProcess(live, "alpha", agent.token, workdir).start()
        live.stop_web()  # and the platform goes away too
        exit_code = Path(ev.work_dir) / "exitcode"
        wait_for(exit_code.exists, 300, "the job did not end while the platform was down")
        assert S(live.evaluation(ev.id).state) == S.running  # nothing could be reported meanwhile
        live.start_web()
        done = wait_for(
            lambda: S((e := live.evaluation(ev.id)).state) in (S.finished, S.failed) and e,
            120,
            "the result was not reported after the platform came back",
        )
    finally:
        agent.stop()
    assert S(done.state) == S.finished, (done.failure_reason, done.log_tail)
    assert slurm_job_ids(f"lagc-eval-{ev.id}-a1", done.work_dir) == {done.job_id} and done.attempt == 1
    with Session(live.engine) as session:
        rows = {r.task: r for r in session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id))}
        charges = session.exec(select(GpuCharge).where(GpuCharge.evaluation_id == ev.id)).all()
        finished = session.exec(
            select(AuditEvent).where(AuditEvent.action == "evaluation.finished", AuditEvent.subject_id == str(ev.id))
        ).all()
    for task, metric in METRICS.items():
        assert (rows[task].value, rows[task].stderr) == by_hand.task(task).metrics()[metric]  # to the last digit
    assert len(rows) == 3 and len(charges) == 1 and len(finished) == 1
    site = done.provenance["site"]
    assert site["site"] == "alpha" and site["job_id"] == done.job_id and site["nodes"] == done.node
    assert site["lm_eval_version"] == done.provenance["lm_eval_version"] and site["elapsed_seconds"] > 0
    assert done.provenance["task_hashes"] == {t: by_hand.task(t).task_hash for t in METRICS}
    # lm-eval ran in the agent's own Python, installed from the lock: the run names that lock
    assert done.provenance["lock_sha256"] == site["lock_sha256"] == environment_lock_sha256(ROOT / "uv.lock")
    script = (Path(done.work_dir) / "run.sh").read_text()
    assert str(live.instance) not in script and str(workdir) in script  # the site ran its own copies


def test_a_lease_whose_job_never_started_moves_to_the_other_site_and_a_tampered_upload_is_refused(live, tmp_path):
    frozen = AgentProcess(live, "gamma", live.add_site("gamma"), tmp_path / "gamma").start()
    other = AgentProcess(live, "beta", live.add_site("beta"), tmp_path / "beta")
    try:
        wait_for(lambda: _online(live, "gamma"), 30, "gamma never came online")
        frozen.signal(signal.SIGSTOP)  # frozen before anything was leased to it: it will never submit
        submission = _submit(live, "sites-fake", "fake@example.eu")
        ev = wait_for(lambda: (e := _evaluation_of(live, submission)) and e.site_id and e, 60, "never leased")
        _tampered_upload_is_refused(live, frozen.token, ev.id)
        other.start()
        done = wait_for(
            lambda: S((e := live.evaluation(ev.id)).state) in (S.finished, S.failed) and e,
            120,
            lambda: f"not finished at beta: {live.evaluation(ev.id)}",
        )
        frozen.signal(signal.SIGCONT)
        wait_for(lambda: _online(live, "gamma"), 30, "gamma did not come back")
    finally:
        frozen.stop()
        other.stop()
    assert S(done.state) == S.finished and done.attempt == 1, done.failure_reason
    sites = json.loads(live.flask("eval", "list", "--challenge", "sites-fake"))
    assert [(s["id"], s["site"], s["state"]) for s in sites] == [(ev.id, "beta", "finished")]
    assert slurm_job_ids(f"lagc-eval-{ev.id}-a1", done.work_dir) == {done.job_id}
    assert not (tmp_path / "gamma" / "jobs").exists()  # gamma never submitted anything
    assert any("expired" in (h.get("reason") or "") for h in done.history)


def _online(live: Live, site: str) -> bool:
    return any(s["site"] == site and s["state"] == "online" for s in json.loads(live.flask("sites", "list")))


def _tampered_upload_is_refused(live: Live, token: str, evaluation_id: int) -> None:
    data = b'{"results": {}}'
    request = urllib.request.Request(
        f"{live.url}/api/v1/sites/leases/{evaluation_id}/1/outputs/output/m/results_x.json",
        data=data,
        method="PUT",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
            "X-Content-SHA256": hashlib.sha256(data + b"tampered").hexdigest(),
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 422 and "refused" in json.loads(refused.value.read())["detail"]
    assert not (
        live.instance / "storage" / "sites" / str(evaluation_id) / "attempt-1" / "output" / "m" / "results_x.json"
    ).exists()


def test_an_agent_run_with_once_exits_when_nothing_is_left(live, tmp_path):
    agent = AgentProcess(live, "cron", live.add_site("cron"), tmp_path / "cron")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LAGC_"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation.agent",
            "--platform",
            live.url,
            "--site",
            "cron",
            "--workdir",
            str(agent.workdir),
            "--once",
            "--poll",
            "0.5",
            "--idle-exit",
            "1",
        ],
        env={**env, "LAGC_SITE_TOKEN": agent.token},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "nothing left to do" in proc.stderr
    [row] = [s for s in json.loads(live.flask("sites", "list")) if s["site"] == "cron"]
    assert row["last_seen"] is not None  # it was heard from


@pytest.mark.ssh
def test_an_agent_on_a_gateway_runs_the_job_over_ssh_and_reconnects_after_its_connection_is_cut(
    live, tmp_path, ssh_site
):
    host, port, key, known_hosts = ssh_site
    workdir = Path(tempfile.mkdtemp(prefix="gw-", dir="/tmp"))  # short: the control socket's path is limited
    site_dir = tmp_path / "login-node"  # the site's filesystem: the agent reaches it only by ssh and rsync
    options = (
        "--ssh",
        host,
        "--ssh-port",
        str(port),
        "--ssh-key",
        str(key),
        "--known-hosts",
        str(known_hosts),
        "--site-dir",
        str(site_dir),
    )
    agent = AgentProcess(live, "gateway", live.add_site("gateway"), workdir, extra=options).start()
    control = ["ssh", "-o", f"ControlPath={workdir}/ssh/cm", "-p", str(port), host]
    try:
        submission = _submit(live, "sites-gateway", "gateway@example.eu", behaviour="sleep 6")
        ev = wait_for(
            lambda: (e := _evaluation_of(live, submission)) and S(e.state) == S.running and e,
            120,
            lambda: f"not running: {_evaluation_of(live, submission)}",
        )
        cut = subprocess.run([*control, "-O", "exit"], capture_output=True, text=True, timeout=15)
        assert cut.returncode == 0, cut.stderr  # the master connection was up, and is gone now
        done = wait_for(
            lambda: S((e := live.evaluation(ev.id)).state) in (S.finished, S.failed) and e,
            120,
            lambda: f"not finished: {live.evaluation(ev.id)}",
        )
        reconnected = subprocess.run([*control, "-O", "check"], capture_output=True, timeout=15).returncode == 0
        fetched = workdir / "fetched"  # the job folder's copy on the gateway, removed once uploaded and reported
        wait_for(lambda: not fetched.exists() or not any(fetched.iterdir()), 15, "the fetched copy was kept")
    finally:
        agent.stop()
        subprocess.run([*control, "-O", "exit"], capture_output=True, timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)
    assert S(done.state) == S.finished and done.attempt == 1, (done.failure_reason, done.log_tail)
    assert reconnected  # the agent's next command built a new master connection
    assert Path(done.work_dir).parent.parent == site_dir / "jobs"  # the job ran in the site's folder
    assert slurm_job_ids(f"lagc-eval-{ev.id}-a1", done.work_dir) == {done.job_id}
    assert str(workdir) not in (Path(done.work_dir) / "run.sh").read_text()  # nothing names the gateway
    assert any((site_dir / "models").iterdir())  # the checkpoint went to the site with rsync
    with Session(live.engine) as session:
        rows = session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id)).all()
    assert {r.task for r in rows} == set(TASKS)  # fetched back with rsync, uploaded and ingested
    assert done.provenance["site"]["site"] == "gateway" and done.provenance["site"]["agent"]["transport"] == "ssh"
