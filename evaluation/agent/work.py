"""The agent's loop: heartbeat, take new leases, stage, bind, submit, follow, report, upload, repeat.

Each lease advances one step at a time and the state file is written after every step (``state.py``), so
the agent can be killed at any moment:

- a job is submitted only after the platform bound the lease to this site ("submitting" acknowledged), and
  before submitting, the agent looks for a job of the lease's name (one submitted just before a crash is
  adopted, never submitted again);
- every report waits in the lease's outbox until the platform acknowledges it, in order; while the platform
  cannot be reached the jobs keep running, are followed, and their reports wait (with exponential backoff
  and jitter between tries);
- a lease the platform no longer lists as held is dropped (and its job cancelled, if one runs).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

from evaluation.agent import running
from evaluation.agent.client import Backoff, PlatformClient, Refused, Unreachable, lease_path, output_path
from evaluation.agent.protocol import (
    CANCELLED,
    FAILED,
    RELEASED,
    RUNNING,
    STAGED,
    SUBMITTED as SUBMITTED_EVENT,
    SUBMITTING,
)
from evaluation.agent.settings import AgentSettings
from evaluation.agent.staging import Stager, StagingError
from evaluation.agent.state import BOUND, DONE, DROPPED, ENDED, NEW, STAGED as STAGED_PHASE, SUBMITTED, AgentState
from evaluation.runners.base import CANCELLED as RUN_CANCELLED, PENDING, RUNNING as RUN_RUNNING, SUCCEEDED
from evaluation.runners.base import PollError, RunHandle, RunStatus
from evaluation.runners.slurm import SlurmError
from evaluation.runners.ssh import SiteUnreachable
from evaluation.runners.transport import LocalTransport, Transport

log = logging.getLogger("lagc.agent")
HOUSEKEEPING_SECONDS = 3600.0


class Agent:
    """One site's agent (see the module docstring)."""

    def __init__(
        self,
        settings: AgentSettings,
        client: PlatformClient | None = None,
        transport: Transport | None = None,
        lock_sha256: str | None = None,
        hub_fetch: Callable | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.client = client or PlatformClient(settings.platform, settings.token)
        self.transport = transport or LocalTransport()
        self.state = AgentState(settings.workdir)
        self.stager = Stager(settings.workdir, self.client, hub_fetch)
        self.info = running.agent_info(settings.host, settings.hub, self.transport, lock_sha256)
        self.backoff = Backoff(base=min(settings.poll_seconds, settings.max_backoff), cap=settings.max_backoff)
        self.clock, self.sleep = clock, sleep
        self.runners: dict[str, Any] = {}
        self.last_lease, self.last_housekeeping, self.last_heartbeat = clock(), 0.0, clock()
        self.holding: list[dict[str, int]] = []

    def run(self) -> int:
        """Loop until stopped (or, with ``--once``, until nothing is left)."""
        self.state.lock()
        self.state.load()
        self.holding = self._holding()
        threading.Thread(target=self._keep_alive, name="heartbeats", daemon=True).start()
        log.info(
            "agent of site %s started (%s, work folder %s)",
            self.settings.site,
            self.settings.platform,
            self.settings.workdir,
        )
        while True:
            reachable = self.cycle()
            if self.settings.once and reachable and self.idle():
                log.info("nothing left to do: exiting (--once)")
                return 0
            self.sleep(self.settings.poll_seconds if reachable else self.backoff.failed())

    def idle(self) -> bool:
        """Nothing held, and no new lease for --idle-exit seconds."""
        return (
            not any(True for _ in self.state.active())
            and self.clock() - self.last_lease >= self.settings.idle_exit_seconds
        )

    def cycle(self) -> bool:
        """One round; False when the platform or (over SSH) the site could not be reached: the next round comes
        after a backoff. The jobs were followed all the same while only the platform was away."""
        reachable = True
        try:
            self.take_leases(self.heartbeat())
        except Unreachable as exc:
            log.warning("the platform cannot be reached: %s", exc)
            reachable = False
        except SiteUnreachable as exc:
            log.warning("the site cannot be reached: %s", exc)
            return False  # its jobs run on; they are followed once the connection is back
        try:
            self.follow()
            if reachable:
                for record in list(self.state.active()):
                    self.advance_all(record)
        except Unreachable as exc:
            log.warning("the platform cannot be reached: %s", exc)
            reachable = False
        except SiteUnreachable as exc:
            log.warning("the site cannot be reached: %s", exc)
            return False
        if reachable:
            self.backoff.succeeded()
        self.housekeeping()
        return reachable

    # -- the platform's view ---------------------------------------------------------------------------------

    def heartbeat(self) -> list[dict[str, Any]]:
        self.holding = self._holding()
        answer = self.client.call("POST", "/heartbeat", {"agent": self.info, "holding": self.holding})
        self.last_heartbeat = self.clock()
        return answer["leases"]

    def _holding(self) -> list[dict[str, int]]:
        return [{"evaluation_id": r["evaluation_id"], "attempt": r["attempt"]} for r in self.state.active()]

    def _keep_alive(self) -> None:
        """Heartbeats while the loop is busy (staging a large checkpoint takes hours): the site stays online and
        its leases renewed. Its own connection; the answers are the loop's business."""
        client = PlatformClient(self.settings.platform, self.settings.token)
        while True:
            self.sleep(self.settings.poll_seconds)
            if self.clock() - self.last_heartbeat < self.settings.poll_seconds:
                continue
            try:
                client.call("POST", "/heartbeat", {"agent": self.info, "holding": list(self.holding)})
                self.last_heartbeat = self.clock()
            except (Unreachable, Refused) as exc:
                log.debug("a heartbeat failed: %s", exc)

    def take_leases(self, held: list[dict[str, Any]]) -> None:
        """Add the leases the platform lists and the agent does not know; drop those it no longer lists."""
        listed = {AgentState.key(s["evaluation_id"], s["attempt"]): s for s in held}
        if set(listed) - {k for k, r in self.state.leases.items()}:
            for lease in self.client.call("GET", "/leases")["leases"]:
                key = AgentState.key(lease["evaluation_id"], lease["attempt"])
                if key in listed and key not in self.state.leases:
                    self.state.add(lease)
                    self.holding = self._holding()
                    self.last_lease = self.clock()
                    log.info("leased evaluation %s (attempt %s)", lease["evaluation_id"], lease["attempt"])
            self.state.save()
        for record in list(self.state.active()):
            summary = listed.get(record["key"])
            if summary is None and record["phase"] != ENDED:
                self.drop(record, "the platform no longer lists the lease as this site's")
            elif summary is not None and summary.get("cancel") and not record.get("cancel"):
                record["cancel"] = True
                self.state.save()

    def drop(self, record: dict[str, Any], why: str) -> None:
        """Forget a lease (cancelling its job, if one may run: also one submitted just before a crash)."""
        try:
            handle = self.handle(record) if record.get("job_id") else None
            if handle is None and record["phase"] == BOUND:
                handle = self.runner(record).find(record["lease"]["job_name"], record["job_dir"])
            if handle is not None:
                self.runner(record).cancel(handle)
        except (PollError, OSError) as exc:
            log.warning("cannot cancel the job of evaluation %s: %s", record["evaluation_id"], exc)
        record["phase"] = DROPPED
        self.state.save()
        log.info("dropped evaluation %s attempt %s: %s", record["evaluation_id"], record["attempt"], why)

    def report(self, record: dict[str, Any], event: str, **body: Any) -> None:
        """Queue a report in the lease's outbox (written to the state file), then send what waits."""
        record["outbox"].append({"event": event, **body})
        self.state.save()
        self.flush(record)

    def flush(self, record: dict[str, Any]) -> None:
        """Send the lease's waiting reports in order; Unreachable leaves the rest for later."""
        while record["outbox"]:
            entry = record["outbox"][0]
            try:
                if entry["event"] == "result":
                    self.client.call(
                        "POST", lease_path(record["evaluation_id"], record["attempt"], "/result"), entry["body"]
                    )
                else:
                    self.client.call("POST", lease_path(record["evaluation_id"], record["attempt"], "/events"), entry)
            except Refused as exc:
                record["outbox"] = []
                log.error(
                    "evaluation %s: the platform refused a %r report: %s",
                    record["evaluation_id"],
                    entry["event"],
                    exc.detail,
                )
                if (
                    exc.status == 422
                    and entry["event"] == "result"
                    and "task_hashes" not in exc.detail
                    and not exc.detail.startswith("the results were refused")
                ):
                    self.report(record, FAILED, retryable=True, reason=f"the site's result was refused: {exc.detail}")
                elif exc.status == 422 and entry["event"] == "result":
                    record["phase"] = DONE  # the platform refused the results and failed the attempt itself
                    self.state.save()
                else:
                    self.drop(record, f"the platform refused a {entry['event']!r} report ({exc})")
                return
            record["outbox"].pop(0)
            self._acknowledged(record, entry["event"])
            self.state.save()

    @staticmethod
    def _acknowledged(record: dict[str, Any], event: str) -> None:
        if event == SUBMITTING and record["phase"] == STAGED_PHASE:
            record["phase"] = BOUND
        elif event in ("result", FAILED, CANCELLED, RELEASED):
            record["phase"] = DONE

    # -- one lease, one step at a time -----------------------------------------------------------------------

    def advance_all(self, record: dict[str, Any]) -> None:
        """Take a lease as far as it goes now (staged, bound and submitted in one go when nothing waits)."""
        while True:
            before = (record["phase"], len(record["outbox"]))
            self.advance(record)
            if (record["phase"], len(record["outbox"])) == before or record["phase"] in (SUBMITTED, DONE, DROPPED):
                return

    def advance(self, record: dict[str, Any]) -> None:
        self.flush(record)
        if record["phase"] in (DONE, DROPPED) or record["outbox"]:
            return
        if record.get("cancel") and record["phase"] in (NEW, STAGED_PHASE):
            self.cancelled_before_submitting(record)
        elif record["phase"] == NEW:
            self.stage(record)
        elif record["phase"] == STAGED_PHASE:
            record["job_dir"] = str(
                self.settings.jobs_root / str(record["evaluation_id"]) / f"attempt-{record['attempt']}"
            )
            self.report(record, SUBMITTING, job_dir=record["job_dir"])
        elif record["phase"] == BOUND:
            self.submit(record)
        elif record["phase"] == ENDED:
            self.finish(record)

    def stage(self, record: dict[str, Any]) -> None:
        request = record["lease"]["request"]
        started, before = self.clock(), self.stager.fetched
        try:
            model = self.stager.stage_model(record["evaluation_id"], record["attempt"], request["model"])
            suite = self.stager.stage_suite(record["evaluation_id"], record["attempt"], request.get("suite"))
        except (StagingError, OSError, KeyError) as exc:
            record["phase"] = ENDED
            self.report(record, RELEASED, reason=f"its files could not be staged: {exc}")
            return
        record.update(phase=STAGED_PHASE, model_dir=str(model), suite_dir=str(suite) if suite else None)
        self.report(
            record, STAGED, seconds=round(self.clock() - started, 3), fetched_bytes=self.stager.fetched - before
        )

    def cancelled_before_submitting(self, record: dict[str, Any]) -> None:
        record["phase"] = ENDED
        self.report(record, CANCELLED, reason="cancelled by an organiser before it was submitted")

    def submit(self, record: dict[str, Any]) -> None:
        """Submit the bound lease's job, unless one of its name exists already (submitted before a crash: it
        is adopted, and followed like any other, also when an organiser cancelled meanwhile)."""
        request, job_dir = record["lease"]["request"], Path(record["job_dir"])
        try:
            profile = running.profile_of(request, self.settings.clusters_file)
            runner = self.runner(record)
            handle = runner.find(record["lease"]["job_name"], job_dir)
            if handle is None and record.get("cancel"):
                self.cancelled_before_submitting(record)
                return
            if handle is None:
                model, suite = self.on_site(record, "model_dir"), self.on_site(record, "suite_dir")
                command = running.job_command(request, profile, job_dir, model, suite, self.settings.datasets_cache)
                handle = running.start(runner, command, job_dir, record["lease"]["job_name"], request)
        except SiteUnreachable:
            raise  # nothing is known (sbatch may have been sent): the next round looks for the job by its name
        except (SlurmError, OSError, ValueError) as exc:
            record.update(phase=ENDED, status={"state": "failed"})
            self.report(record, FAILED, reason=f"the job could not be submitted at the site: {exc}", retryable=True)
            return
        record.update(phase=SUBMITTED, job_id=handle.job_id, job_token=handle.token)
        self.state.save()
        log.info("evaluation %s: job %s submitted", record["evaluation_id"], handle.job_id)
        self.report(record, SUBMITTED_EVENT, job_id=handle.job_id)

    def on_site(self, record: dict[str, Any], key: str) -> Path | None:
        """A staged folder where the compute nodes see it: put there through the transport (nothing to do when
        the site's folder is the agent's own, as on a login node without --site-dir)."""
        if not record.get(key):
            return None
        local = Path(record[key])
        remote = self.settings.site_root / local.relative_to(self.settings.workdir)
        self.transport.put_folder(local, remote)
        return remote

    # -- the jobs --------------------------------------------------------------------------------------------

    def runner(self, record: dict[str, Any]):
        request = record["lease"]["request"]
        if request["cluster"] not in self.runners:
            self.runners[request["cluster"]] = running.runner_of(
                running.profile_of(request, self.settings.clusters_file), self.transport
            )
        return self.runners[request["cluster"]]

    def handle(self, record: dict[str, Any]) -> RunHandle:
        runner = self.runner(record)
        return RunHandle(
            runner=runner.kind, job_id=record["job_id"], job_dir=record["job_dir"], token=record.get("job_token") or ""
        )

    def follow(self) -> None:
        """Poll every submitted job (one batch per cluster) and record what changed; works offline too."""
        by_cluster: dict[str, list[dict[str, Any]]] = {}
        for record in self.state.active():
            if record["phase"] == SUBMITTED:
                by_cluster.setdefault(record["lease"]["request"]["cluster"], []).append(record)
        for records in by_cluster.values():
            runner = self.runner(records[0])
            handles = {r["key"]: self.handle(r) for r in records}
            statuses = runner.poll_many(list(handles.values()))
            for record in records:
                status = statuses[handles[record["key"]]]
                if not isinstance(status, PollError):
                    self.observe(record, runner, handles[record["key"]], status)

    def observe(self, record: dict[str, Any], runner, handle: RunHandle, status: RunStatus) -> None:
        request = record["lease"]["request"]
        if status.state in (PENDING, RUN_RUNNING):
            if record.get("cancel") and not record.get("cancel_sent"):
                runner.cancel(handle)
                record["cancel_sent"] = True
                self.state.save()
            elif status.state == RUN_RUNNING and not record.get("running"):
                record["running"] = True
                record["outbox"].append({"event": RUNNING, "node": status.node, "started_at": status.started_at})
                self.state.save()
            elif status.state == RUN_RUNNING and running.overtime(request, status.started_at, running.utc_now()):
                runner.cancel(handle)
                record["overtime"] = True
                self.state.save()
            return
        record.update(phase=ENDED, status=_status_dict(status))
        if status.state != SUCCEEDED:
            event = CANCELLED if status.state == RUN_CANCELLED and record.get("cancel") else FAILED
            reason = status.reason or "the evaluation failed"
            if record.get("overtime"):
                reason = (
                    f"the evaluation ran longer than its {request.get('timeout_minutes')}-minute limit and was stopped"
                )
            record["outbox"].append(
                {
                    "event": event,
                    **_report_of(status),
                    "reason": reason,
                    "retryable": status.retryable and not record.get("overtime"),
                }
            )
        self.state.save()
        log.info("evaluation %s: job %s ended (%s)", record["evaluation_id"], record["job_id"], status.state)

    def finish(self, record: dict[str, Any]) -> None:
        """A succeeded job: upload each output (once), then report the result with the provenance."""
        request, job_dir = record["lease"]["request"], Path(record["job_dir"])
        local = self.transport.fetch_folder(job_dir, self.settings.workdir / "fetched" / record["key"])
        files = running.outputs(request, job_dir, Path(local))
        if not any(relative.rsplit("/", 1)[-1].startswith("results_") for relative, _ in files):
            self.report(record, FAILED, retryable=True, reason="the job ended without writing a results file")
            return
        listed = []
        for relative, path in files:
            sha = record["uploaded"].get(relative) or running.sha256_of(path)
            if relative not in record["uploaded"]:
                self.client.upload(output_path(record["evaluation_id"], record["attempt"], relative), path, sha)
                record["uploaded"][relative] = sha
                self.state.save()
            listed.append({"path": relative, "sha256": sha, "bytes": path.stat().st_size})
        status = RunStatus(**{**record["status"], "log_tail": tuple(record["status"].get("log_tail") or ())})
        profile = running.profile_of(request, self.settings.clusters_file)
        body = {
            "status": {k: v for k, v in record["status"].items() if k in _RESULT_KEYS},
            "outputs": listed,
            "provenance": running.provenance(
                request, profile, status, record["job_id"], job_dir, files, self.transport, self.info
            ),
        }
        self.report(record, "result", body=body)
        if Path(local) != job_dir:  # the gateway's copy: uploaded and described, so no longer needed
            shutil.rmtree(local, ignore_errors=True)

    def housekeeping(self) -> None:
        if self.clock() - self.last_housekeeping < HOUSEKEEPING_SECONDS:
            return
        self.last_housekeeping = self.clock()
        in_use = [Path(r[k]) for r in self.state.active() for k in ("model_dir", "suite_dir") if r.get(k)]
        removed = self.stager.housekeeping(in_use, self.settings.keep_hours * 3600)
        self.state.forget_finished()
        self.state.save()
        if removed:
            log.info("housekeeping removed %d staged files and folders", removed)


_RESULT_KEYS = ("exit_code", "node", "started_at", "ended_at", "elapsed_seconds", "scheduler_state")


def _report_of(status: RunStatus) -> dict[str, Any]:
    """What an event reports of a run's status."""
    return {k: v for k, v in _status_dict(status).items() if k != "state"}


def _status_dict(status: RunStatus) -> dict[str, Any]:
    return {
        "state": status.state,
        "exit_code": status.exit_code,
        "node": status.node,
        "started_at": status.started_at,
        "ended_at": status.ended_at,
        "elapsed_seconds": status.elapsed_seconds,
        "scheduler_state": status.scheduler_state,
        "log_tail": list(status.log_tail)[-20:],
    }
