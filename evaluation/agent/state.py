"""The agent's memory, in its work folder: what it holds and how far each lease has come, written atomically
after every step, so a killed agent's successor continues exactly where it stopped and submits nothing twice.

``state.json`` maps ``"<evaluation>-a<attempt>"`` to a lease record:

    phase     new -> staged -> bound (the platform confirmed "submitting") -> submitted (job id known)
              -> ended (the job finished; its status kept) -> done | dropped
    lease     the lease as the platform sent it (request, job name, ...)
    job_dir, job_id, status, outbox (reports not yet acknowledged, oldest first), uploaded ({path: sha256})

The file is replaced whole (a temporary file, fsync, rename, fsync of the folder), never edited in place.
One agent at a time per work folder: ``agent.lock`` (flock) refuses a second one.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, Iterator

NEW, STAGED, BOUND, SUBMITTED, ENDED, DONE, DROPPED = "new", "staged", "bound", "submitted", "ended", "done", "dropped"
ACTIVE = (NEW, STAGED, BOUND, SUBMITTED, ENDED)
FILE, LOCK = "state.json", "agent.lock"


class AgentBusy(RuntimeError):
    """Another agent works in this folder."""


class AgentState:
    """The leases this agent holds, persisted in ``workdir/state.json``."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.path = self.workdir / FILE
        self.leases: dict[str, dict[str, Any]] = {}
        self._lock_fd: int | None = None

    @staticmethod
    def key(evaluation_id: int, attempt: int) -> str:
        return f"{int(evaluation_id)}-a{int(attempt)}"

    def lock(self) -> None:
        """Take the folder for this process (released when it exits, however it exits)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.workdir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AgentBusy(f"another agent works in {self.workdir} (it holds {self.workdir / LOCK})") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._lock_fd = descriptor

    def load(self) -> "AgentState":
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        self.leases = dict(data.get("leases", {}))
        return self

    def save(self) -> None:
        temporary = self.path.with_name(f".{FILE}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "leases": self.leases}, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, self.path)
        folder = os.open(self.workdir, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def active(self) -> Iterator[dict[str, Any]]:
        """The lease records still being worked on, oldest evaluation first."""
        for key in sorted(self.leases, key=lambda k: tuple(int(p.lstrip("a")) for p in k.split("-"))):
            if self.leases[key]["phase"] in ACTIVE:
                yield self.leases[key]

    def add(self, lease: dict[str, Any]) -> dict[str, Any]:
        """Remember a new lease (a known one is left as it is)."""
        key = self.key(lease["evaluation_id"], lease["attempt"])
        if key not in self.leases:
            self.leases[key] = {
                "key": key,
                "evaluation_id": lease["evaluation_id"],
                "attempt": lease["attempt"],
                "phase": NEW,
                "lease": lease,
                "job_dir": None,
                "job_id": None,
                "status": None,
                "outbox": [],
                "uploaded": {},
            }
        return self.leases[key]

    def forget_finished(self, keep: int = 200) -> None:
        """Drop the oldest finished records beyond ``keep`` (the platform has them all)."""
        finished = [k for k, v in self.leases.items() if v["phase"] not in ACTIVE]
        for key in finished[:-keep] if len(finished) > keep else []:
            del self.leases[key]
