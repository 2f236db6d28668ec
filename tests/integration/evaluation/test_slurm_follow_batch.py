"""Following many Slurm jobs in batches, against the real local Slurm cluster: one ``squeue`` per cycle for
every job in flight (counted by wrapping the runner's real ``subprocess.run``), finishing, failing and
cancelled jobs, and a job the controller forgot (after MinJobAge) read from the cluster's accounting."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from sqlmodel import Session, select

from evaluation import jobs, services
from evaluation.command import Command
from evaluation.models import Evaluation, EvaluationState as S
from evaluation.planning import setup_of
from evaluation.runners.base import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED, RunHandle
from evaluation.runners.slurm import SlurmError, SlurmRunner
from evaluation.runners.slurm_states import find_in_jobcomp, meaning

from tests import factories

from ._platform import accepted_submission, challenge_text, cycle_until, make_challenge, make_team
from ._support import local_slurm_profile

pytestmark = pytest.mark.slurm


class CountingRun:
    """The real ``subprocess.run`` (or ``inner``, which calls it), recording every Slurm command it runs."""

    def __init__(self, inner=subprocess.run):
        self.calls: list[list[str]] = []
        self.inner = inner

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        return self.inner(args, **kwargs)

    def follow_commands(self, since: int = 0) -> list[list[str]]:
        """The commands that ask how jobs stand (not sbatch, scancel, or a look-up by name)."""
        return [
            c
            for c in self.calls[since:]
            if (c[0] == "squeue" and "-j" in c) or c[0] == "sacct" or c[:3] == ["scontrol", "show", "job"]
        ]


def _asked_ids(command: list[str]) -> list[str]:
    return command[command.index("-j") + 1].split(",")


@pytest.fixture
def counted():
    run = CountingRun()
    return SlurmRunner(local_slurm_profile(), run=run), run


def _scancel(*job_ids: str) -> None:
    if job_ids:
        subprocess.run(["scancel", *job_ids], capture_output=True)


def test_several_jobs_in_flight_are_followed_with_one_squeue_per_cycle_until_they_end(counted, job_root):
    runner, run = counted
    commands = {
        "long": ("sleep", "300"),
        "ok-1": ("sleep", "1"),
        "fail": ("sh", "-c", "echo boom >&2; exit 4"),
        "ok-2": ("true",),
    }
    handles = {
        key: runner.start(Command(argv=argv), job_root / f"batch-{key}", name=f"lagc-test-batch-{key}")
        for key, argv in commands.items()
    }
    try:
        cancelled = False
        deadline = time.monotonic() + 90
        while True:
            before = len(run.calls)
            statuses = runner.poll_many(list(handles.values()))
            asked = run.follow_commands(before)
            assert [c[0] for c in asked] == ["squeue"], asked  # one controller call for all four jobs
            assert sorted(_asked_ids(asked[0])) == sorted(h.job_id for h in handles.values())
            if not cancelled and statuses[handles["long"]].state == RUNNING:
                runner.cancel(handles["long"])
                cancelled = True
            if cancelled and all(s.finished for s in statuses.values()):
                break
            assert time.monotonic() < deadline, {k: statuses[h] for k, h in handles.items()}
            time.sleep(0.3)
    finally:
        _scancel(*(h.job_id for h in handles.values()))
    final = {key: statuses[handle] for key, handle in handles.items()}
    assert (final["ok-1"].state, final["ok-2"].state) == (SUCCEEDED, SUCCEEDED)
    assert final["ok-1"].node and final["ok-1"].elapsed_seconds is not None
    assert (final["fail"].state, final["fail"].exit_code, final["fail"].scheduler_state) == (FAILED, 4, "FAILED")
    assert "exit code 4" in final["fail"].reason and final["fail"].log_tail == ("boom",)
    assert final["long"].state == CANCELLED and final["long"].reason == "the evaluation was cancelled"


def _min_job_age(runner: SlurmRunner) -> int:
    for line in runner._slurm("scontrol", "show", "config").stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "MinJobAge":
            return int(value.split()[0])
    return 300


def _known_to_controller() -> set[str]:
    out = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i"], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def _forgotten_job(runner: SlurmRunner, job_root) -> str:
    """A finished job the controller no longer knows: the latest one in the jobcomp file, or (on a cluster
    younger than MinJobAge) a fresh one, waited for until the controller purges it."""
    _, location = runner.accounting()
    known = _known_to_controller()
    with open(location) as fh:
        ids = [line.split()[0].removeprefix("JobId=") for line in fh if line.startswith("JobId=")]
    old = [job_id for job_id in ids if job_id.isdigit() and job_id not in known]
    if old:
        return max(old, key=int)
    handle = runner.start(Command(argv=("true",)), job_root / "forgotten", name="lagc-test-forgotten")
    deadline = time.monotonic() + _min_job_age(runner) + 180  # slow only on a freshly started cluster
    while handle.job_id in _known_to_controller():
        assert time.monotonic() < deadline, "the controller never forgot the job"
        time.sleep(5)
    return handle.job_id


def test_a_job_the_controller_forgot_is_resolved_through_accounting_in_the_same_batch(counted, job_root, tmp_path):
    runner, run = counted
    assert runner.accounting()[0] == "jobcomp"  # the local cluster has no slurmdbd: its record is the file
    forgotten = _forgotten_job(runner, job_root)
    live = runner.start(Command(argv=("sleep", "60")), job_root / "batch-live", name="lagc-test-batch-live")
    try:
        old = RunHandle("slurm", forgotten, str(tmp_path), "local-slurm")  # a folder with no exit code
        before = len(run.calls)
        statuses = runner.poll_many([live, old])
        asked = run.follow_commands(before)
    finally:
        _scancel(live.job_id)
    assert [c[0] for c in asked] == ["squeue"] and sorted(_asked_ids(asked[0])) == sorted([forgotten, live.job_id])
    assert statuses[live].state in (PENDING, RUNNING)
    with open(runner.accounting()[1]) as fh:
        record = find_in_jobcomp(fh.read(), forgotten)
    assert statuses[old].scheduler_state == record.state and statuses[old].state == meaning(record).status
    assert statuses[old].ended_at == record.end and runner.job(forgotten).source == "jobcomp"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_scheduler_follows_all_jobs_of_a_cluster_with_one_squeue_per_cycle(app, db, settings, monkeypatch):
    slurm = settings.with_overrides(eval_runner="slurm")
    with db() as session:
        challenge = make_challenge(
            session, challenge_text(runner="slurm", cluster="local-slurm", max_concurrent={"local-slurm": 3})
        )
        for i, behaviour in enumerate(("sleep 1", "sleep 1", "sleep 120")):
            user, team = make_team(session, challenge, f"batch{i}@example.eu")
            accepted_submission(session, slurm, challenge, team, user, behaviour=behaviour)
        setup = setup_of(challenge, slurm)
        profile = setup.profile("local-slurm")
    run = CountingRun()
    monkeypatch.setitem(jobs._RUNNERS, jobs.runner_key("slurm", setup, "local-slurm"), SlurmRunner(profile, run=run))
    engine = app.extensions["lagc_engine"]
    batches, cancel_sent = [], False
    deadline = time.monotonic() + 120
    try:
        while True:
            before = len(run.calls)
            with Session(engine, expire_on_commit=False) as session:
                jobs.run_evaluations(session, slurm)
                session.commit()
                evs = session.exec(select(Evaluation).order_by(Evaluation.id)).all()
                asked = run.follow_commands(before)
                assert len(asked) <= 1 and all(c[0] == "squeue" for c in asked), asked  # one call per cycle
                batches += [_asked_ids(c) for c in asked]
                long_ev = evs[2]
                if not cancel_sent and S(long_ev.state) == S.running:
                    services.request_cancel(session, long_ev, actor_id=None)
                    session.commit()
                    cancel_sent = True
            if [S(e.state) for e in evs] == [S.finished, S.finished, S.cancelled]:
                break
            assert time.monotonic() < deadline, [(e.id, e.state, e.failure_reason) for e in evs]
            time.sleep(0.3)
    finally:
        _scancel(*(e.job_id for e in evs if e.job_id))
    assert max(len(ids) for ids in batches) == 3  # at some point one squeue covered all three jobs
    assert not [c for c in run.calls if c[:3] == ["scontrol", "show", "job"]]


def _unreachable(conf_dir):
    """The real Slurm commands with the cluster's configuration, except that the controller is looked for on a
    port where none listens (a controller that is down), giving up after 2 s instead of 10."""
    lines = [
        line
        for line in open(os.environ["SLURM_CONF"]).read().splitlines()
        if not line.startswith(("SlurmctldPort", "MessageTimeout"))
    ]
    conf = conf_dir / "slurm.conf"
    conf.write_text("\n".join([*lines, "SlurmctldPort=1", "MessageTimeout=2"]) + "\n")

    def run(args, **kwargs):
        return subprocess.run(args, env={**os.environ, "SLURM_CONF": str(conf)}, **kwargs)

    return run


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_controller_that_is_down_leaves_the_jobs_in_flight_untouched(app, db, settings, monkeypatch, tmp_path):
    slurm = settings.with_overrides(eval_runner="slurm")
    with db() as session:
        challenge = make_challenge(session, challenge_text(runner="slurm", cluster="local-slurm"))
        user, team = make_team(session, challenge, "down@example.eu")
        accepted_submission(session, slurm, challenge, team, user, behaviour="sleep 120")
        setup = setup_of(challenge, slurm)
        profile = setup.profile("local-slurm")
    key = jobs.runner_key("slurm", setup, "local-slurm")
    monkeypatch.setitem(jobs._RUNNERS, key, SlurmRunner(profile))
    monkeypatch.setattr(jobs, "SLURM_POLL", 0.0)
    engine = app.extensions["lagc_engine"]
    evs = []
    try:
        evs = cycle_until(engine, slurm, lambda evs: evs and S(evs[0].state) == S.running, timeout=60)
        run = CountingRun(_unreachable(tmp_path))
        monkeypatch.setitem(jobs._RUNNERS, key, SlurmRunner(profile, run=run))
        for _ in range(3):
            evs = cycle_until(engine, slurm, lambda evs: True)
        assert [c[0] for c in run.calls] == ["squeue"] * 3  # asked once each cycle; the squeue failed each time
        assert S(evs[0].state) == S.running and evs[0].failure_reason is None and evs[0].attempt == 1
        with pytest.raises(SlurmError, match="Unable to contact slurm controller"):  # it really was down
            jobs._RUNNERS[key].poll(services.handle_of(evs[0]))
    finally:
        _scancel(*(e.job_id for e in evs if e.job_id))


def test_each_definition_of_a_cluster_is_asked_with_its_own_runner_and_an_unknown_cluster_is_said_once(
    app, db, settings, monkeypatch, caplog, tmp_path
):
    """Two challenges define `local-slurm` differently: the follow step asks each one's jobs through a runner
    of its own definition. A running evaluation whose challenge names no profile for its cluster (edited while
    the job ran) is left running, and the scheduler says so once, not at every poll."""
    from app.demo import DEMO_SLUG
    from evaluation.cycle import Cycle

    slurm = settings.with_overrides(eval_runner="slurm")
    runs, job_of, setups = {}, {}, {}
    with db() as session:
        for slug, cpus in (("first-def", 1), ("second-def", 2)):
            text = challenge_text(runner="slurm", cluster="local-slurm").replace(
                f'slug = "{DEMO_SLUG}"', f'slug = "{slug}"'
            )
            challenge = make_challenge(session, text.replace("cpus_per_task = 1", f"cpus_per_task = {cpus}"))
            user, team = make_team(session, challenge, f"{slug}@example.eu")
            sub = factories.submission(session, challenge.id, team.id, user.id, label=slug)
            clusters = ("local-slurm", "nowhere") if slug == "first-def" else ("local-slurm",)
            for n, cluster in enumerate(clusters):
                ev = factories.evaluation(
                    session,
                    sub,
                    state=S.running,
                    runner="slurm",
                    cluster=cluster,
                    job_id=str(990000 + cpus * 10 + n),  # no such jobs: only who is asked matters here
                    work_dir=str(tmp_path / f"{slug}-{n}"),
                )
                job_of[(slug, cluster)] = ev.job_id
                if cluster == "nowhere":
                    stranded = ev.id
            setups[slug] = setup_of(challenge, slurm)
            runs[slug] = CountingRun()
        session.commit()
    keys = {slug: jobs.runner_key("slurm", setup, "local-slurm") for slug, setup in setups.items()}
    assert keys["first-def"] != keys["second-def"]
    for slug, key in keys.items():
        monkeypatch.setitem(jobs._RUNNERS, key, SlurmRunner(setups[slug].profile("local-slurm"), run=runs[slug]))
    monkeypatch.setattr(jobs, "SLURM_POLL", 0.0)
    monkeypatch.setattr(jobs, "_UNFOLLOWABLE", {})
    engine = app.extensions["lagc_engine"]
    for _ in range(3):
        with Session(engine) as session:
            jobs.follow(Cycle(session, slurm))
            session.commit()
    for slug, run in runs.items():
        asked = {
            job for command in run.calls if command[0] == "squeue" and "-j" in command for job in _asked_ids(command)
        }
        assert asked == {job_of[(slug, "local-slurm")]}, (slug, run.calls)
    with Session(engine) as session:
        left = session.get(Evaluation, stranded)
        assert S(left.state) == S.running and left.failure_reason is None
    said = [r.getMessage() for r in caplog.records if "cannot follow evaluation" in r.getMessage()]
    assert len(said) == 1 and "'nowhere', which has no profile" in said[0]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
