"""Pure helpers for the Slurm runner: parse Slurm's outputs and say what a job state means for a founder.

Slurm reports a job in three places over its life: the controller (``squeue`` for many jobs at once,
``scontrol show job -o`` for one) while it knows the job (and MinJobAge seconds after it ends), then
``sacct`` where the site runs accounting, or the jobcomp/filetxt file (one ``key=value`` line per finished
job) where it does not. The batch readers take the output of one command covering many jobs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from evaluation.runners.base import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED

_PAIR = re.compile(r"(?:^|\s)([A-Za-z][\w/:]*)=(.*?)(?=\s+[A-Za-z][\w/:]*=|\s*$)")

PENDING_STATES = frozenset({"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"})
RUNNING_STATES = frozenset({"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "SUSPENDED", "STOPPED", "RESIZING"})

# state -> (runner status, reason, worth retrying because it was not the model's fault)
FINISHED_STATES = {
    "COMPLETED": (SUCCEEDED, "", False),
    "FAILED": (FAILED, "", False),  # the reason comes from the exit code and the log
    "TIMEOUT": (FAILED, "the evaluation took longer than its time limit and the cluster stopped it", False),
    "CANCELLED": (
        CANCELLED,
        "the job was cancelled on the cluster (by an administrator or the site), not by the platform",
        True,
    ),
    "NODE_FAIL": (
        FAILED,
        "the compute node failed during the evaluation; this is not the model's fault and it can be run again",
        True,
    ),
    "OUT_OF_MEMORY": (FAILED, "the evaluation ran out of memory on the compute node", False),
    "PREEMPTED": (
        FAILED,
        "the cluster stopped the job to make room for a higher-priority one; it can be run again",
        True,
    ),
    "BOOT_FAIL": (
        FAILED,
        "the compute node failed to start; this is not the model's fault and it can be run again",
        True,
    ),
    "DEADLINE": (FAILED, "the job could not start and finish before its deadline", True),
    "REVOKED": (FAILED, "the cluster withdrew the job (federated scheduling)", True),
    "SPECIAL_EXIT": (FAILED, "the job ended in a special state set by the site", True),
}


@dataclass(frozen=True)
class SlurmJob:
    """What Slurm says about one job, whichever source it came from."""

    job_id: str
    state: str
    exit_code: int | None = None
    signal: int | None = None
    reason: str | None = None
    node: str | None = None
    start: str | None = None
    end: str | None = None
    elapsed_seconds: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Meaning:
    """A Slurm state translated into a runner status."""

    status: str
    reason: str
    retryable: bool = False


def parse_key_values(line: str) -> dict[str, str]:
    """``Key=Value Key2=Value 2 ...`` (scontrol -o, jobcomp/filetxt) into a dict; values may contain spaces."""
    return {m.group(1): m.group(2).strip() for m in _PAIR.finditer(line.strip())}


def parse_sbatch_job_id(stdout: str) -> str:
    """The job id from ``sbatch --parsable`` output (``ID`` or ``ID;cluster``)."""
    first = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    job_id = first.split(";", 1)[0].strip()
    if not job_id.isdigit():
        raise ValueError(f"sbatch did not return a job id: {stdout!r}")
    return job_id


def parse_duration(text: str | None) -> float | None:
    """Slurm durations ``[D-]HH:MM:SS``, ``MM:SS`` or ``MM:SS.mmm`` in seconds (None if not a duration)."""
    if not text:
        return None
    days, _, rest = text.rpartition("-") if "-" in text else ("0", "", text)
    try:
        parts = [float(p) for p in rest.split(":")]
        seconds = sum(value * 60**i for i, value in enumerate(reversed(parts)))
        return int(days) * 86400 + seconds
    except ValueError:
        return None


def _clean(value: str | None) -> str | None:
    return None if value in (None, "", "(null)", "Unknown", "None", "None assigned", "N/A") else value


def _exit(value: str | None) -> tuple[int | None, int | None]:
    if not value or ":" not in value:
        return None, None
    code, sig = value.split(":", 1)
    return int(code), int(sig)


def job_from_key_values(fields: dict[str, str], source: str) -> SlurmJob:
    """A SlurmJob from parsed ``scontrol show job -o`` or jobcomp fields."""
    code, sig = _exit(fields.get("ExitCode"))
    start, end = _clean(fields.get("StartTime")), _clean(fields.get("EndTime"))
    elapsed = parse_duration(fields.get("RunTime")) if "RunTime" in fields else _seconds_between(start, end)
    return SlurmJob(
        job_id=fields.get("JobId", ""),
        state=fields.get("JobState", "").split()[0],
        exit_code=code,
        signal=sig,
        reason=_clean(fields.get("Reason")),
        node=_clean(fields.get("NodeList")),
        start=start,
        end=end,
        elapsed_seconds=elapsed,
        source=source,
    )


SACCT_FORMAT = "JobID,State,ExitCode,Start,End,Elapsed,NodeList,Reason"


def parse_sacct(stdout: str, job_id: str) -> SlurmJob | None:
    """The job's allocation line from ``sacct -X -n -P -o SACCT_FORMAT`` output (None if absent)."""
    for line in stdout.splitlines():
        cols = line.split("|")
        if len(cols) >= 7 and cols[0] == job_id:
            code, sig = _exit(cols[2])
            return SlurmJob(
                job_id=job_id,
                state=cols[1].split()[0],
                exit_code=code,
                signal=sig,
                reason=_clean(cols[7]) if len(cols) > 7 else None,
                node=_clean(cols[6]),
                start=_clean(cols[3]),
                end=_clean(cols[4]),
                elapsed_seconds=parse_duration(cols[5]),
                source="sacct",
            )
    return None


def parse_sacct_many(stdout: str, job_ids: Iterable[str]) -> dict[str, SlurmJob]:
    """Every wanted job's allocation line from one ``sacct -j id1,id2,... -X -n -P -o SACCT_FORMAT`` call."""
    wanted = set(job_ids)
    found = {}
    for line in stdout.splitlines():
        job_id = line.split("|", 1)[0]
        if job_id in wanted:
            job = parse_sacct(line, job_id)
            if job is not None:
                found[job_id] = job  # a requeued job has several lines: the last one is the latest
    return found


# squeue's long format, "|" after every field. Reason comes last: a site-set reason may be free text.
SQUEUE_FIELDS = ("JobID", "State", "exit_code", "NodeList", "StartTime", "EndTime", "TimeUsed", "Reason")
SQUEUE_FORMAT = ",".join(f"{field}:|" for field in SQUEUE_FIELDS)
NO_VAL = 0xFFFFFFFE  # Slurm's "no value" for a 32-bit field


def squeue_exit(value: str) -> tuple[int | None, int | None]:
    """squeue's exit_code as (exit code, signal): ``code:signal`` (newer Slurm) or the raw wait status
    (22.05 prints 1024 for exit code 4, 15 for SIGTERM), decoded as ``scontrol`` shows it."""
    value = value.strip()
    if ":" in value:
        return _exit(value)
    if not value.isdigit() or int(value) >= NO_VAL:
        return None, None
    status = int(value)
    signal = status & 0x7F
    return (0, signal) if signal else ((status >> 8) & 0xFF, 0)


def parse_squeue(stdout: str) -> dict[str, SlurmJob]:
    """Jobs by id from ``squeue -h --states=all -j ... -O SQUEUE_FORMAT``; malformed lines are skipped."""
    found = {}
    for line in stdout.splitlines():
        cols = line.split("|", len(SQUEUE_FIELDS) - 1)
        if len(cols) < len(SQUEUE_FIELDS) or not cols[1].strip():
            continue
        job_id, state, code, node, start, end, used, reason = (c.strip() for c in cols)
        exit_code, sig = squeue_exit(code)
        found[job_id] = SlurmJob(
            job_id=job_id,
            state=state.split()[0],
            exit_code=exit_code,
            signal=sig,
            reason=_clean(reason.removesuffix("|").strip()),
            node=_clean(node),
            start=_clean(start),
            end=_clean(end),
            elapsed_seconds=parse_duration(used),
            source="squeue",
        )
    return found


def chunks(job_ids: Sequence[str], size: int) -> list[list[str]]:
    """The ids in consecutive groups of at most ``size``, so no command line grows with the number of jobs."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    ids = list(dict.fromkeys(job_ids))  # each job once, first-seen order
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def find_many_in_jobcomp(text: str, job_ids: Iterable[str]) -> dict[str, SlurmJob]:
    """The last jobcomp/filetxt record of each wanted job (read once for a whole batch)."""
    wanted = set(job_ids)
    found = {}
    for line in text.splitlines():
        if not line.startswith("JobId="):
            continue
        job_id = line[len("JobId=") :].split(" ", 1)[0]
        if job_id in wanted:  # only the wanted lines are fully parsed: the file grows with every job
            found[job_id] = job_from_key_values(parse_key_values(line), "jobcomp")
    return found


def find_in_jobcomp(text: str, job_id: str) -> SlurmJob | None:
    """The last jobcomp/filetxt record of the job (a requeued job has several), or None."""
    found = None
    for line in text.splitlines():
        if line.startswith(f"JobId={job_id} "):
            found = job_from_key_values(parse_key_values(line), "jobcomp")
    return found


def job_ids_named_in_jobcomp(text: str, name: str, work_dir: str | None = None) -> list[str]:
    """The ids of every finished job called ``name`` (and run in ``work_dir``, when given) in a jobcomp/filetxt
    file, oldest first."""
    ids = []
    for line in text.splitlines():
        if f"Name={name} " not in line:
            continue
        fields = parse_key_values(line)
        if (
            fields.get("Name") == name
            and fields.get("JobId", "").isdigit()
            and (work_dir is None or fields.get("WorkDir") == work_dir)
        ):
            ids.append(fields["JobId"])
    return ids


def job_ids_in(stdout: str, work_dir: str) -> list[str]:
    """The ids in ``ID|WorkDir`` lines (``squeue -o '%i|%Z'``, ``sacct -P -o JobID,WorkDir``) of the jobs that
    ran in ``work_dir``: a job's name alone may be another platform's or another user's."""
    ids = []
    for line in stdout.splitlines():
        job_id, _, folder = line.strip().partition("|")
        if job_id.isdigit() and folder.rstrip("/") == work_dir.rstrip("/"):
            ids.append(job_id)
    return ids


def meaning(job: SlurmJob) -> Meaning:
    """What a Slurm state means for the platform (for FAILED the caller adds the exit-code reason)."""
    if job.state in PENDING_STATES:
        why = f" ({job.reason})" if job.reason and job.reason != "None" else ""
        return Meaning(PENDING, f"waiting in the cluster's queue{why}")
    if job.state in RUNNING_STATES:
        return Meaning(RUNNING, "")
    status, reason, retry = FINISHED_STATES.get(
        job.state, (FAILED, f"the cluster reported an unexpected job state {job.state}", True)
    )
    return Meaning(status, reason, retry)


def _seconds_between(start: str | None, end: str | None) -> float | None:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return None
