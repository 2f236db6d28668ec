"""What every runner shares: the job folder layout, the handle, the status, and why a run failed.

A handle is plain data (store ``handle.to_dict()`` in the database); any process can rebuild it with
``RunHandle.from_dict`` and poll the same run again, because all a run's state lives in its job folder
(and, on Slurm, in Slurm itself).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

from evaluation.command import Command
from evaluation.results import EvalResults, find_results_file, load_results

RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST = "running", "succeeded", "failed", "cancelled", "lost"
PENDING = "pending"  # queued on a cluster, not started yet (a kind of running for the state machine)
FINISHED_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED, LOST})


@dataclass(frozen=True)
class JobPaths:
    """Where a run keeps its files. The folder must be on a filesystem the compute node also sees."""

    root: Path

    @property
    def script(self) -> Path:
        return self.root / "run.sh"

    @property
    def log(self) -> Path:
        return self.root / "lm_eval.log"

    @property
    def exit_code(self) -> Path:
        return self.root / "exitcode"

    @property
    def pid(self) -> Path:
        return self.root / "pid"

    @property
    def started(self) -> Path:
        return self.root / "started"

    @property
    def cancelled(self) -> Path:
        return self.root / "cancelled"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def gpus(self) -> Path:
        """The GPU models the job's first node reported (nvidia-smi or rocm-smi), for the provenance."""
        return self.root / "gpus.txt"


@dataclass(frozen=True)
class RunHandle:
    """Enough to find a run again after a restart: the runner kind, its id (pid or Slurm job id) and folder.

    ``token`` guards against a reused pid: for local runs it is the process start time from /proc.
    """

    runner: str
    job_id: str
    job_dir: str
    token: str = ""

    def to_dict(self) -> dict:
        """Plain data for the database."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunHandle":
        """Rebuild a handle stored with ``to_dict``."""
        return cls(**{k: str(data[k]) for k in ("runner", "job_id", "job_dir", "token") if k in data})


@dataclass(frozen=True)
class RunStatus:
    """Where a run stands. ``reason`` is written for a start-up founder, ``log_tail`` for an engineer."""

    state: str
    reason: str = ""
    exit_code: int | None = None
    log_tail: tuple[str, ...] = ()
    node: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    elapsed_seconds: float | None = None
    scheduler_state: str | None = None
    retryable: bool = False  # ended for a reason that is not the model's fault (node failure, preemption)

    @property
    def finished(self) -> bool:
        """True once the run can no longer change."""
        return self.state in FINISHED_STATES


class PollError(RuntimeError):
    """The runner could not tell how a run stands (its cluster cannot be asked): unknown, not lost."""


class Runner(Protocol):
    """The interface the CLI and the scheduler use; LocalRunner and SlurmRunner implement it."""

    def start(self, command: Command, job_dir: str | Path, name: str = "lagc-eval") -> RunHandle: ...

    def poll(self, handle: RunHandle) -> RunStatus: ...

    def poll_many(self, handles: Sequence[RunHandle]) -> dict[RunHandle, RunStatus | PollError]:
        """Every run's status in one go (the scheduler calls this once per cluster and cycle); a run whose
        state could not be learned maps to the PollError that says why. ``poll_each`` is the plain loop."""
        ...

    def cancel(self, handle: RunHandle) -> None: ...

    def find(self, name: str, job_dir: str | Path, in_folder: bool = False) -> RunHandle | None:
        """The run started under this name and folder, if it was started (for a scheduler that crashed
        between submitting a job and recording its id); with `in_folder`, only a run whose working folder is
        `job_dir` (for names other platform instances may use too)."""
        ...


_KNOWN_FAILURES = (
    (
        "lagc: the Ray cluster did not gather",
        "the nodes of the multi-node job did not form a Ray cluster in time "
        "(a problem of the cluster, not of the model)",
    ),
    ("OutOfMemoryError", "the model ran out of GPU memory"),
    ("CUDA out of memory", "the model ran out of GPU memory"),
    ("MemoryError", "the model ran out of memory"),
    ("trust_remote_code", "the model needs its own Python code, which the challenge never runs"),
    (
        "no file named model.safetensors",
        "the checkpoint has no safetensors weights (pickle files such as pytorch_model.bin are never loaded)",
    ),
    ("does not appear to have a file named", "the checkpoint is incomplete (a weights or config file is missing)"),
    ("safetensors", "the checkpoint's weights could not be read as safetensors"),
    ("Repo id must be", "the checkpoint folder does not exist or is not a model folder"),
    ("Tasks not found", "a benchmark task is unknown to lm-eval (suite misconfigured)"),
    ("No space left on device", "the disk of the cluster is full"),
)


def poll_each(runner: Runner, handles: Sequence[RunHandle]) -> dict[RunHandle, RunStatus | PollError]:
    """``poll_many`` for a runner whose polls cost nothing worth batching (a local process): one poll each."""
    results: dict[RunHandle, RunStatus | PollError] = {}
    for handle in handles:
        try:
            results[handle] = runner.poll(handle)
        except PollError as exc:
            results[handle] = exc
    return results


def explain_failure(exit_code: int | None, log_tail: Sequence[str]) -> str:
    """A one-line reason for a failed run, from its exit code and the last lines of its log."""
    text = "\n".join(log_tail)
    for needle, reason in _KNOWN_FAILURES:
        if needle in text:
            return reason
    if exit_code in (137, -9):
        return "the evaluation was killed (most likely it ran out of memory)"
    if exit_code is None:
        return "the evaluation stopped without reporting an exit code"
    return f"lm-eval stopped with exit code {exit_code}; the last log lines say why"


def tail_lines(data: bytes, lines: int = 20) -> tuple[str, ...]:
    """The last non-empty lines of a log's tail; a progress bar is cut to its last update."""
    text = data.decode("utf-8", errors="replace")
    cleaned = [line.rstrip("\r").rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")]
    return tuple(line for line in cleaned if line)[-lines:]


def read_tail(path: Path, lines: int = 20, max_bytes: int = 16_384) -> tuple[str, ...]:
    """The last lines of a log file (empty if there is none); progress bars are cut to their last update."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except OSError:
        return ()
    return tail_lines(data, lines)


def read_int(path: Path) -> int | None:
    """An integer written to a file by the wrapper script, or None if the file is missing or partial."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def collect(handle: RunHandle, expected_tasks: Sequence[str] = ()) -> EvalResults:
    """Read a finished run's results file from its job folder (ResultsError if missing or incomplete)."""
    return load_results(find_results_file(JobPaths(Path(handle.job_dir)).output), expected_tasks)


def wait(
    runner: Runner,
    handle: RunHandle,
    timeout: float | None = None,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RunStatus:
    """Poll until the run finishes or the timeout passes (then the last, unfinished, status is returned)."""
    deadline = None if timeout is None else clock() + timeout
    while True:
        status = runner.poll(handle)
        if status.finished or (deadline is not None and clock() >= deadline):
            return status
        sleep(interval)
