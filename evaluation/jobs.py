"""Scheduler steps of the evaluation feature. Each is idempotent and keeps its state in the database.

``run_evaluations`` first asks one indexed question ("is there anything to do?") and runs only the steps
that have work: enqueue (accepted submissions get an evaluation), dispatch (reconcile half-submitted jobs,
then submit within each cluster's concurrency and each team's allocation), follow (poll each cluster's jobs
in one batch, cancel on request, stop runs over their time, ingest finished ones, record failures) and
retry.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import exists, func, select as sa_select
from sqlmodel import Session, select

from app.checkpoints.models import Submission, SubmissionStatus
from app.checkpoints.services import storage_of
from app.db import utcnow
from app.ops.steps import for_each
from app.settings import Settings
from evaluation import services
from evaluation.ingest import attempt_gpu_hours, settle
from evaluation.cycle import Cycle, reserved_gpu_hours
from evaluation.models import Evaluation, EvaluationState as S
from evaluation.jobspec import build_job_command, job_name, legacy_job_name, planned_nodes
from evaluation.planning import SetupError, Setup, gpu_hours_at_most, job_dir_of, pinned_request
from evaluation.policy import SITE_RUNNER, Candidate, plan_dispatch
from evaluation.sites.dispatch import lease_to_sites, sites_wake
from evaluation.sites.pinning import pin_for_sites
from evaluation.runners.base import PENDING, RUNNING, PollError, RunHandle, RunStatus, read_tail
from evaluation.runners.local import LocalRunner
from evaluation.runners.slurm import SlurmError, SlurmRunner

log = logging.getLogger("lagc.evaluation")
DISPATCH_WINDOW = 500  # queued rows considered per cycle (the rest wait their turn)
# One runner per cluster definition (`runner_key`), kept so local children are reaped.
_RUNNERS: dict[tuple[str, str, str], object] = {}
SLURM_POLL = 2.0  # seconds between two polls of one Slurm job (each cycle's batch is a call to the controller)
_LAST_POLL: dict[int, float] = {}  # in-process pacing only: no state lives here
_UNFOLLOWABLE: dict[int, str] = {}  # evaluation id -> why it cannot be followed, already logged (log once)


def runner_for(kind: str, setup: Setup, cluster: str):
    """The runner of a cluster as ``setup`` (its challenge's) defines it, created once per process per
    definition: two challenges may define one cluster name differently. Raises `SetupError` when the
    challenge has no profile for ``cluster``."""
    key = runner_key(kind, setup, cluster)
    if key not in _RUNNERS:
        _RUNNERS[key] = LocalRunner() if kind == "local" else SlurmRunner(setup.profile(cluster))
    return _RUNNERS[key]


def runner_key(kind: str, setup: Setup, cluster: str) -> tuple[str, str, str]:
    """What makes two evaluations' runners the same: the runner kind, the cluster and its whole profile."""
    return (kind, cluster, "" if kind == "local" else repr(setup.profile(cluster)))


def survey(session: Session) -> tuple[bool, bool, bool]:
    """(submissions to enqueue, evaluations queued or in flight, failures waiting for a retry): one query."""
    pending = exists().where(
        Submission.status == SubmissionStatus.accepted, ~exists().where(Evaluation.submission_id == Submission.id)
    )
    flight = exists().where(Evaluation.state.in_([s.value for s in services.OPEN]))
    retry = exists().where(Evaluation.state == S.failed, Evaluation.retry_at.is_not(None))
    row = session.execute(sa_select(pending, flight, retry)).one()
    return bool(row[0]), bool(row[1]), bool(row[2])


def run_evaluations(session: Session, settings: Settings) -> None:
    """The evaluation steps of one scheduler cycle, each committed on its own."""
    to_enqueue, in_flight, to_retry = survey(session)
    steps: list[Callable[[Cycle], None]] = []
    if to_retry:
        steps.append(retry)
    if to_enqueue:
        steps.append(enqueue)
    if in_flight or to_retry or to_enqueue:
        steps += [follow, dispatch, lease_to_sites]
    # Each commits its own work as it goes; one failing is rolled back, logged and counted, the others run.
    for_each(
        session,
        steps,
        lambda step: step(Cycle(session, settings)),
        commit=True,
        savepoint=False,
        key=lambda step: step.__name__,
        what="evaluation step",
    )


def enqueue(cycle: Cycle) -> None:
    """Every accepted submission without an evaluation gets one, with its challenge's suite pinned."""
    session = cycle.session
    submissions = session.exec(
        select(Submission)
        .where(
            Submission.status == SubmissionStatus.accepted, ~exists().where(Evaluation.submission_id == Submission.id)
        )
        .order_by(Submission.id)
    ).all()
    store = storage_of(cycle.settings)

    def evaluate(sub: Submission) -> None:
        try:
            setup = cycle.setup(sub.challenge_id)
            request = pinned_request(setup, cycle.settings, sub, store.submission_dir(sub.id))
            if request["runner"] == SITE_RUNNER:
                request = pin_for_sites(request, sub, cycle.settings)
        except (ValueError, OSError) as exc:  # SetupError (the planner's refusal too) is a ValueError
            services.unrunnable(
                session, sub.challenge_id, sub.team_id, sub.id, f"the evaluation cannot run: {exc}", cycle.now
            )
            return
        services.create(session, sub.challenge_id, sub.team_id, sub.id, request, setup.policy.max_attempts, cycle.now)

    for_each(session, submissions, evaluate, what="evaluation of submission")


def retry(cycle: Cycle) -> None:
    """Failures that were not the model's fault, with attempts left, go back to the queue when due."""
    due = cycle.session.exec(
        select(Evaluation).where(
            Evaluation.state == S.failed, Evaluation.retry_at.is_not(None), Evaluation.retry_at <= cycle.now
        )
    ).all()
    for_each(
        cycle.session,
        due,
        lambda ev: services.requeue(ev, cycle.now, f"retry after: {ev.failure_reason}"),
        what="retry of evaluation",
    )


def dispatch(cycle: Cycle) -> None:
    """Reconcile half-submitted jobs, then submit queued evaluations the clusters and allocations allow."""
    session = cycle.session
    for_each(
        session,
        session.exec(
            select(Evaluation).where(Evaluation.state == S.dispatching, Evaluation.runner != SITE_RUNNER)
        ).all(),
        lambda ev: _reconcile(cycle, ev),
        savepoint=False,
        what="reconcile of evaluation",
    )
    queued = session.exec(
        select(Evaluation)
        .where(Evaluation.state == S.queued, Evaluation.runner != SITE_RUNNER)
        .order_by(Evaluation.queued_at, Evaluation.id)
        .limit(DISPATCH_WINDOW)
    ).all()
    if not queued:
        return
    active = dict(
        session.exec(
            select(Evaluation.cluster, func.count())
            .where(Evaluation.state.in_([s.value for s in services.ACTIVE]))
            .group_by(Evaluation.cluster)
        ).all()
    )
    candidates = [_candidate(cycle, ev) for ev in queued]
    teams = {c.team_id for c in candidates}
    go, exhausted = plan_dispatch(
        candidates, active, services.used_gpu_hours(session, teams), reserved_gpu_hours(cycle, teams)
    )
    by_id = {ev.id: ev for ev in queued}
    needs = {c.evaluation_id: c.gpu_hours_at_most for c in candidates}
    for_each(
        session,
        [by_id[ev_id] for ev_id in exhausted],
        lambda ev: services.fail(session, ev, _exhausted_reason(ev, needs[ev.id]), (), retryable=False, now=cycle.now),
        what="evaluation",
    )
    session.commit()
    for_each(
        session,
        [by_id[ev_id] for ev_id in go],
        lambda ev: _submit(cycle, ev),
        savepoint=False,
        what="dispatch of evaluation",
    )


def _candidate(cycle: Cycle, ev: Evaluation) -> Candidate:
    """The dispatcher's view of a queued evaluation: its cluster's limit, its team's allocation and its need."""
    try:
        setup = cycle.setup(ev.challenge_id)
    except SetupError:  # the submit step fails it with the reason
        return Candidate(ev.id, ev.team_id, ev.cluster, 1, None)
    policy = setup.policy
    return Candidate(
        ev.id,
        ev.team_id,
        ev.cluster,
        policy.concurrency(ev.cluster),
        policy.allocation(ev.cluster),
        gpu_hours_at_most(setup, ev.cluster, ev.request or {}),
    )


def _exhausted_reason(ev: Evaluation, need: float) -> str:
    """Why a team's evaluation cannot start on the cluster: its allocation cannot cover the job."""
    nodes = planned_nodes(ev.request or {})
    job = f" on {nodes} nodes" if nodes > 1 else ""
    return (
        f"the team's GPU-hour allocation on {ev.cluster} cannot cover this evaluation (up to {need:,.1f} "
        f"GPU-hours{job} within its time limit); an organiser can raise it"
    )


def _submit(cycle: Cycle, ev: Evaluation) -> None:
    """Write the intended job folder and the 'dispatching' marker, commit, then submit and record the id."""
    session = cycle.session
    try:
        setup = cycle.setup(ev.challenge_id)
        profile = setup.profile(ev.cluster)
        job_dir = (
            Path(ev.work_dir)
            if ev.state == S.dispatching and ev.work_dir  # the folder it was given
            else job_dir_of(cycle.settings, profile, cycle.instance, ev.id, ev.attempt)
        )
        command = build_job_command(ev.request, profile, job_dir)
    except (SetupError, ValueError, KeyError) as exc:
        services.fail(session, ev, f"the evaluation cannot run: {exc}", (), retryable=False, now=cycle.now)
        session.commit()
        return
    if ev.state != S.dispatching:
        if not services.claim_dispatch(session, ev, str(job_dir), cycle.now):  # cancelled since it was read
            session.rollback()
            return
        session.commit()
    runner = runner_for(ev.runner, setup, ev.cluster)
    try:
        if ev.runner == "slurm":
            handle = runner.start(
                command,
                job_dir,
                name=job_name(ev.id, ev.attempt, cycle.instance),
                time_minutes=setup.policy.slurm_minutes(),
            )
        else:
            handle = runner.start(command, job_dir, name=job_name(ev.id, ev.attempt, cycle.instance))
    except (SlurmError, OSError) as exc:
        services.fail(
            session,
            ev,
            f"the job could not be submitted: {exc}",
            (),
            retryable=True,
            now=utcnow(),
            retry_delay=setup.policy.retry_delay_seconds,
        )
        session.commit()
        return
    services.mark_dispatched(ev, handle, utcnow())
    session.commit()


def _reconcile(cycle: Cycle, ev: Evaluation) -> None:
    """A scheduler died between marking and recording a submission: find the job by name, else submit.

    A job submitted before the instance was part of the name is found under its old name only if it runs
    in this evaluation's folder: another instance sharing the account has jobs of that name too."""
    setup = cycle.setup(ev.challenge_id)
    runner = runner_for(ev.runner, setup, ev.cluster)
    try:
        handle = runner.find(job_name(ev.id, ev.attempt, cycle.instance), ev.work_dir) or runner.find(
            legacy_job_name(ev.id, ev.attempt), ev.work_dir
        )
    except SlurmError as exc:
        log.warning("cannot reconcile evaluation %s yet: %s", ev.id, exc)
        return
    if handle is not None:
        services.mark_dispatched(ev, handle, cycle.now)
        cycle.session.commit()
        return
    _submit(cycle, ev)  # never submitted: submit it now, under the same name and folder


def follow(cycle: Cycle) -> None:
    """Follow every dispatched or running job (a Slurm job at most every SLURM_POLL seconds): cancel those an
    organiser asked to stop, poll each cluster's jobs in one batch (one ``squeue`` on Slurm, not one call per
    job, which site admins forbid), then act on each evaluation's status."""
    session = cycle.session
    clock = time.monotonic()
    due: dict[tuple[str, str, str], list[Evaluation]] = {}
    for ev in session.exec(
        select(Evaluation)
        .where(
            Evaluation.state.in_([S.dispatched.value, S.running.value]), Evaluation.runner != SITE_RUNNER
        )  # their agents follow them
        .order_by(Evaluation.id)
    ).all():
        if ev.runner == "slurm" and not ev.cancel_requested and clock - _LAST_POLL.get(ev.id, -1e9) < SLURM_POLL:
            continue
        _LAST_POLL[ev.id] = clock
        try:
            definition = runner_key(ev.runner, cycle.setup(ev.challenge_id), ev.cluster)
        except SetupError as exc:
            _cannot_follow(ev, str(exc))
            continue
        _UNFOLLOWABLE.pop(ev.id, None)
        due.setdefault(definition, []).append(ev)
    for_each(
        session,
        list(due.items()),
        lambda group: _follow_cluster(cycle, *group),
        savepoint=False,
        key=lambda group: group[0][1],
        what="jobs on cluster",
    )


def _cannot_follow(ev: Evaluation, reason: str) -> None:
    """An evaluation whose job cannot be asked about: its challenge's setup no longer reads, or no longer
    names its cluster (an organiser edited it while the job ran). It is left as it is, never failed (the job
    may still be running and its results may yet be ingested once the setup is mended), and said once per
    scheduler process and reason, not at every poll."""
    if _UNFOLLOWABLE.get(ev.id) != reason:
        _UNFOLLOWABLE[ev.id] = reason
        log.warning(
            "cannot follow evaluation %s (%s on %s): %s; it stays %s until its challenge's setup names the "
            "cluster again",
            ev.id,
            ev.runner,
            ev.cluster,
            reason,
            S(ev.state).value,
        )


def _follow_cluster(cycle: Cycle, definition: tuple[str, str, str], evs: list[Evaluation]) -> None:
    """One cluster's jobs (one definition of it): cancel on request, poll them in one batch, act on each
    (each alone)."""
    session, (kind, cluster, _) = cycle.session, definition
    runner = runner_for(kind, cycle.setup(evs[0].challenge_id), cluster)
    handles = {ev.id: services.handle_of(ev) for ev in evs}
    for ev in evs:
        if ev.cancel_requested:
            try:
                runner.cancel(handles[ev.id])
            except PollError as exc:  # the cluster cannot be asked now: the cancel is tried again next cycle
                log.warning("cannot cancel evaluation %s on %s: %s", ev.id, cluster, exc)
    statuses = runner.poll_many(list(handles.values()))
    unknown = [ev.id for ev in evs if isinstance(statuses[handles[ev.id]], PollError)]
    if unknown:  # the cluster cannot be asked: these jobs' states are unknown, not lost
        log.warning(
            "cannot poll %d evaluation(s) on %s (ids %s): %s",
            len(unknown),
            cluster,
            unknown[:20],
            statuses[handles[unknown[0]]],
        )
    known = [ev for ev in evs if not isinstance(statuses[handles[ev.id]], PollError)]
    for_each(
        session,
        known,
        lambda ev: _act_on(cycle, ev, cycle.setup(ev.challenge_id), runner, handles[ev.id], statuses[handles[ev.id]]),
        commit=True,
        savepoint=False,
        what="evaluation",
    )


def _act_on(cycle: Cycle, ev: Evaluation, setup: Setup, runner, handle: RunHandle, status: RunStatus) -> None:
    """Move the evaluation on from its run's status: running, stopped for its time, ingested or failed."""
    if status.state in (PENDING, RUNNING):
        if status.state == RUNNING and ev.state == S.dispatched:
            services.mark_running(ev, _started(status, cycle.now), status.node)
        _stop_if_overtime(cycle, ev, runner, handle)
        return
    settle(
        cycle.session,
        ev,
        status,
        setup.profile(ev.cluster),
        cycle.now,
        setup.policy.retry_delay_seconds,
        cycle.settings,
    )


def _started(status: RunStatus, now: datetime) -> datetime:
    """When the job started, from the cluster's record (local time, as Slurm writes it) or now."""
    try:
        return datetime.fromisoformat(status.started_at).astimezone() if status.started_at else now
    except ValueError:
        return now


def _stop_if_overtime(cycle: Cycle, ev: Evaluation, runner, handle) -> None:
    """The platform's own time limit: stop a run that has been running longer than the request allows."""
    minutes = float(ev.request.get("timeout_minutes") or 0)
    if not minutes or ev.started_at is None:
        return
    started = ev.started_at if ev.started_at.tzinfo else ev.started_at.replace(tzinfo=cycle.now.tzinfo)
    ran = (cycle.now - started).total_seconds()
    if ran <= minutes * 60:
        return
    runner.cancel(handle)
    profile = cycle.setup(ev.challenge_id).profile(ev.cluster)
    services.charge(cycle.session, ev, attempt_gpu_hours(ran, profile, ev.request), cycle.now)
    ev.elapsed_seconds = ran
    services.fail(
        cycle.session,
        ev,
        f"the evaluation ran longer than its {minutes:g}-minute limit and was stopped",
        read_tail(Path(ev.work_dir or ".") / "lm_eval.log"),
        retryable=False,
        now=cycle.now,
    )


BUSY_INTERVAL = 0.5  # seconds between cycles while jobs run, so a finished job's scores appear at once


def wake(session: Session) -> float | None:
    """For the scheduler between cycles: 0 when something waits to be queued or dispatched (a cycle now),
    BUSY_INTERVAL while jobs run or retries wait, None when idle. Read-only queries: one, and one more when
    site evaluations wait (they are urgent only while a site is online to take them)."""
    pending = exists().where(
        Submission.status == SubmissionStatus.accepted, ~exists().where(Evaluation.submission_id == Submission.id)
    )
    own = Evaluation.runner != SITE_RUNNER
    waiting = exists().where(Evaluation.state.in_([S.queued.value, S.dispatching.value]), own)
    active = exists().where(Evaluation.state.in_([S.dispatched.value, S.running.value]), own)
    retry = exists().where(Evaluation.state == S.failed, Evaluation.retry_at.is_not(None))
    at_sites = exists().where(Evaluation.state.in_([s.value for s in services.OPEN]), ~own)
    pending, waiting, active, retry, at_sites = session.execute(
        sa_select(pending, waiting, active, retry, at_sites)
    ).one()
    if pending or (waiting and not active):
        return 0.0  # new work and free clusters: a cycle now (with jobs running, the busy pace is soon enough)
    wants = [BUSY_INTERVAL] if waiting or active or retry else []
    if at_sites:
        wants.append(sites_wake(session, utcnow(), BUSY_INTERVAL))
    wants = [w for w in wants if w is not None]
    return min(wants) if wants else None


STEPS = [run_evaluations]
WAKE = wake
