"""Run lm-eval as a Slurm batch job on a cluster described by a ClusterProfile.

One batch script per evaluation, rendered from the profile and the command's layout (one node, or several
with a Ray cluster: ``evaluation.runners.batch_script``), submitted with ``sbatch --parsable``. Runs are
followed in batches (``poll_many``): one ``squeue -j id1,id2,...`` per chunk of ids for every job the
controller still knows, then, for the jobs it forgot (after MinJobAge), one ``sacct -j id1,id2,...`` per
chunk where the site has accounting, or one read of the jobcomp/filetxt file where it has not
(``accounting = "auto"`` asks ``scontrol show config`` which one, once). Sites forbid polling the
controller job by job; this costs one controller call per chunk and cycle.

The job folder must be on a filesystem the compute node shares with the platform (or the site agent): the
script writes lm-eval's log, its exit code and its results there, and they are read back. Every Slurm command
and every file of the job folder goes through a ``Transport`` (``evaluation.runners.transport``): this
machine by default, or a login node reached another way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

from evaluation.clusters import ClusterProfile
from evaluation.command import Command
from evaluation.runners.base import (
    CANCELLED,
    FAILED,
    LOST,
    SUCCEEDED,
    JobPaths,
    PollError,
    RunHandle,
    RunStatus,
    explain_failure,
)
from evaluation.runners.batch_script import render_batch_script, sbatch_directives  # noqa: F401 (API)
from evaluation.runners.slurm_states import (
    SACCT_FORMAT,
    SQUEUE_FORMAT,
    SlurmJob,
    chunks,
    find_many_in_jobcomp,
    job_ids_in,
    job_ids_named_in_jobcomp,
    meaning,
    parse_sacct_many,
    parse_sbatch_job_id,
    parse_squeue,
)
from evaluation.runners.transport import LocalTransport, Transport, read_int, read_tail
from evaluation.runners.transport import read_text as read_text_of

CHUNK_SIZE = 500  # job ids per squeue/sacct call: about 4 KB of arguments, far below any command-line limit


class SlurmError(PollError):
    """A Slurm command failed (the message carries its stderr)."""


class SlurmRunner:
    """Submit, follow, cancel and account for evaluations as Slurm jobs."""

    kind = "slurm"

    def __init__(
        self,
        profile: ClusterProfile,
        run: Callable[..., subprocess.CompletedProcess] | None = None,
        read_text: Callable[[str], str] | None = None,
        chunk_size: int = CHUNK_SIZE,
        transport: Transport | None = None,
    ):
        """``transport``: where Slurm and the job folders are (this machine by default); ``run`` and
        ``read_text`` replace its command runner and its reader of Slurm's own files (for tests)."""
        self.profile = profile
        self.chunk_size = chunk_size
        self.transport = transport or LocalTransport()
        self._run = run or (lambda argv, timeout=60, **_: self.transport.run(argv, timeout=timeout))
        self._read_text = read_text or (lambda path: read_text_of(self.transport, path))
        self._accounting: tuple[str, str | None] | None = None

    def _slurm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = self._run(list(args), capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise SlurmError(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    def start(
        self, command: Command, job_dir: str | Path, name: str = "lagc-eval", time_minutes: int | None = None
    ) -> RunHandle:
        """Write the batch script into job_dir and submit it; returns the handle with the Slurm job id."""
        paths = JobPaths(_absolute(job_dir))
        for stale in (paths.exit_code, paths.cancelled, paths.started):
            self.transport.remove(stale)
        script = render_batch_script(self.profile, command, paths, name, time_minutes)
        self.transport.write_bytes(paths.script, script.encode())
        proc = self._slurm("sbatch", "--parsable", str(paths.script))
        return RunHandle(
            runner=self.kind, job_id=parse_sbatch_job_id(proc.stdout), job_dir=str(paths.root), token=self.profile.name
        )

    def cancel(self, handle: RunHandle) -> None:
        """Mark the run as cancelled by the platform and ``scancel`` it (harmless if it already ended)."""
        self.transport.write_bytes(JobPaths(Path(handle.job_dir)).cancelled, b"cancelled\n")
        self._ask("scancel", handle.job_id)  # a hang or a missing command is SlurmError: tried again later

    def find(self, name: str, job_dir: str | Path) -> RunHandle | None:
        """The job submitted under this name from this job folder (the last one), from the controller or the
        finished-job record. The folder counts too: a name alone may be another platform's on a shared cluster.

        Raises SlurmError when the controller cannot be asked: "not found" must never be guessed.
        """
        folder = str(_absolute(job_dir))
        proc = self._slurm("squeue", "-h", "--states=all", "--name", name, "-o", "%i|%Z")
        ids = job_ids_in(proc.stdout, folder)
        if not ids:
            kind, location = self.accounting()
            if kind == "sacct":
                out = self._slurm("sacct", "--name", name, "-X", "-n", "-P", "-o", "JobID,WorkDir", "-S", "now-30days")
                ids = job_ids_in(out.stdout, folder)
            elif location:
                try:
                    ids = job_ids_named_in_jobcomp(self._read_text(location), name, folder)
                except OSError:
                    ids = []
        if not ids:
            return None
        return RunHandle(runner=self.kind, job_id=max(ids, key=int), job_dir=folder, token=self.profile.name)

    def job(self, job_id: str) -> SlurmJob | None:
        """What Slurm knows about the job (None: no record anywhere); SlurmError when it cannot be asked."""
        return self.jobs([job_id])[job_id]

    def jobs(self, job_ids: Sequence[str]) -> dict[str, SlurmJob | None]:
        """What Slurm knows about each job: one ``squeue`` per chunk for the jobs the controller still knows,
        then one ``sacct`` per chunk (or one read of the jobcomp file) for those it forgot. None: no record.

        Raises SlurmError when the controller or the accounting cannot be asked: "no record" is never guessed.
        """
        live = self.live_jobs(job_ids)
        forgotten = [job_id for job_id in dict.fromkeys(job_ids) if job_id not in live]
        finished = self.finished_jobs(forgotten) if forgotten else {}
        return {job_id: live.get(job_id) or finished.get(job_id) for job_id in job_ids}

    def live_jobs(self, job_ids: Sequence[str]) -> dict[str, SlurmJob]:
        """The jobs the controller still knows (running, pending, or ended less than MinJobAge ago)."""
        found: dict[str, SlurmJob] = {}
        for chunk in chunks(job_ids, self.chunk_size):
            proc = self._ask("squeue", "-h", "--states=all", "-j", ",".join(chunk), "-O", SQUEUE_FORMAT)
            if proc.returncode != 0:
                # squeue -j with a single unknown id fails with "Invalid job id"; with several it just omits them
                if len(chunk) == 1 and "Invalid job id" in proc.stderr:
                    continue
                raise SlurmError(f"squeue failed ({proc.returncode}): {proc.stderr.strip()}")
            asked = set(chunk)
            found.update((job_id, job) for job_id, job in parse_squeue(proc.stdout).items() if job_id in asked)
        return found

    def finished_jobs(self, job_ids: Sequence[str]) -> dict[str, SlurmJob]:
        """Records of jobs the controller forgot: from sacct (one call per chunk) or the jobcomp file (read
        once; an unreadable file means no records, as for a single job)."""
        kind, location = self.accounting()
        if kind == "sacct":
            found: dict[str, SlurmJob] = {}
            for chunk in chunks(job_ids, self.chunk_size):
                proc = self._ask("sacct", "-j", ",".join(chunk), "-X", "-n", "-P", "-o", SACCT_FORMAT)
                if proc.returncode != 0:
                    raise SlurmError(f"sacct failed ({proc.returncode}): {proc.stderr.strip()}")
                found.update(parse_sacct_many(proc.stdout, chunk))
            return found
        try:
            return find_many_in_jobcomp(self._read_text(location), job_ids) if location else {}
        except OSError:
            return {}

    def _ask(self, *args: str) -> subprocess.CompletedProcess:
        """A read-only query; a command that hangs or cannot start is "Slurm cannot be asked", not a crash."""
        try:
            return self._slurm(*args, check=False)
        except (subprocess.TimeoutExpired, OSError) as exc:
            raise SlurmError(f"{args[0]} could not be run: {exc}") from exc

    def accounting(self) -> tuple[str, str | None]:
        """("sacct", None) or ("jobcomp", path): from the profile, or asked of ``scontrol show config``."""
        if self._accounting is None:
            kind, path = self.profile.accounting, self.profile.jobcomp_path
            if kind != "sacct" and not path:
                config = {}
                proc = self._ask("scontrol", "show", "config")
                if proc.returncode != 0:
                    raise SlurmError(f"scontrol show config failed ({proc.returncode}): {proc.stderr.strip()}")
                for line in proc.stdout.splitlines():
                    key, sep, value = line.partition("=")
                    if sep:
                        config[key.strip()] = value.strip()
                if kind == "auto":
                    kind = "jobcomp" if config.get("AccountingStorageType") == "accounting_storage/none" else "sacct"
                if config.get("JobCompType") == "jobcomp/filetxt":
                    path = config.get("JobCompLoc")
            self._accounting = (kind, path)
        return self._accounting

    def poll(self, handle: RunHandle) -> RunStatus:
        """The run's status (see ``poll_many``); raises SlurmError when Slurm cannot be asked (controller
        down): the run's state is then unknown, not lost, and the caller should poll again later."""
        result = self.poll_many([handle])[handle]
        if isinstance(result, PollError):
            raise result
        return result

    def poll_many(self, handles: Sequence[RunHandle]) -> dict[RunHandle, RunStatus | PollError]:
        """Every run's status from one batch of Slurm commands (squeue, then sacct or the jobcomp file for
        the jobs the controller forgot), with node, times and a founder-readable reason.

        A run whose state Slurm could not tell (controller down, accounting failing) maps to the SlurmError
        instead: unknown, not lost, to be polled again later.
        """
        try:
            live = self.live_jobs([h.job_id for h in handles])
        except SlurmError as exc:
            return {handle: exc for handle in handles}
        forgotten = [h.job_id for h in handles if h.job_id not in live]
        finished: dict[str, SlurmJob] | SlurmError
        try:
            finished = self.finished_jobs(forgotten) if forgotten else {}
        except SlurmError as exc:
            finished = exc
        results: dict[RunHandle, RunStatus | PollError] = {}
        for handle in handles:
            if handle.job_id in live:
                results[handle] = self._status(handle, live[handle.job_id])
            elif isinstance(finished, SlurmError):
                results[handle] = finished
            else:
                results[handle] = self._status(handle, finished.get(handle.job_id))
        return results

    def _status(self, handle: RunHandle, job: SlurmJob | None) -> RunStatus:
        """The run's status from Slurm's record of it (None: Slurm has none) and its job folder."""
        paths = JobPaths(Path(handle.job_dir))
        code = read_int(self.transport, paths.exit_code)
        if job is None:
            return self._without_record(handle, paths, code)
        m = meaning(job)
        common = dict(
            node=job.node,
            started_at=job.start,
            ended_at=job.end,
            elapsed_seconds=job.elapsed_seconds,
            scheduler_state=job.state,
        )
        if m.status not in (SUCCEEDED, FAILED, CANCELLED):
            return RunStatus(m.status, m.reason, **common)
        tail = read_tail(self.transport, paths.log) or read_tail(
            self.transport, paths.root / f"slurm-{handle.job_id}.err"
        )
        exit_code = code if code is not None else job.exit_code
        if self.transport.exists(paths.cancelled) and m.status != SUCCEEDED:
            return RunStatus(CANCELLED, "the evaluation was cancelled", exit_code, tail, **common)
        if m.status == SUCCEEDED:
            return RunStatus(SUCCEEDED, "", exit_code, tail, **common)
        reason = m.reason or explain_failure(exit_code, tail)
        return RunStatus(m.status, reason, exit_code, tail, retryable=m.retryable, **common)

    def _without_record(self, handle: RunHandle, paths: JobPaths, code: int | None) -> RunStatus:
        """No record in Slurm any more: trust the exit-code file if the job wrote one, else the run is lost."""
        tail = read_tail(self.transport, paths.log)
        if code == 0:
            return RunStatus(SUCCEEDED, "", 0, tail)
        if code is not None:
            return RunStatus(FAILED, explain_failure(code, tail), code, tail)
        return RunStatus(
            LOST,
            f"the cluster has no record of job {handle.job_id} and it left no exit code",
            None,
            tail,
            retryable=True,
        )


def _absolute(job_dir: str | Path) -> Path:
    """The job folder as an absolute path, without touching the filesystem (it may be the site's, not ours)."""
    return Path(os.path.abspath(job_dir))
