"""How the Slurm runner and the site agent reach a site: its commands and its filesystem, behind one small
interface.

A site's login node is where ``sbatch``, ``squeue`` and ``scancel`` run and where the job folders, the staged
checkpoints and the task suites live (on the filesystem the compute nodes share). ``LocalTransport`` is this
machine: the scheduler's Slurm runner on a login node, and the site agent running there. A gateway that
reaches the login node over SSH implements the same methods (one multiplexed connection for the commands,
rsync for the folders) and nothing else changes: every command the runner or the agent runs on the site and
every file they write or read there goes through these methods.

Paths are the site's paths (strings or ``Path``); ``put_folder``/``fetch_folder`` move whole folders between
this machine and the site.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol, Sequence

from evaluation.runners.base import tail_lines

TAIL_BYTES = 16_384


class Transport(Protocol):
    """The site's commands and files (see the module docstring)."""

    def run(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a command on the site; the result has ``returncode``, ``stdout`` and ``stderr`` as text.
        OSError when it cannot be started, ``subprocess.TimeoutExpired`` when it hangs."""
        ...

    def read_bytes(self, path: str | Path, tail: int | None = None) -> bytes:
        """A file's bytes (its last ``tail`` bytes when given); FileNotFoundError when it is missing."""
        ...

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        """Write a file whole, creating its folders: a reader sees the old file or the new one, never half."""
        ...

    def remove(self, path: str | Path) -> None:
        """Delete a file; nothing when it is missing."""
        ...

    def exists(self, path: str | Path) -> bool:
        """Whether a file or folder is there."""
        ...

    def put_folder(self, local: str | Path, remote: str | Path) -> None:
        """Make the site's ``remote`` folder hold the files of this machine's ``local`` folder."""
        ...

    def fetch_folder(self, remote: str | Path, local: str | Path) -> Path:
        """A folder on this machine holding the files of the site's ``remote`` folder (``local`` or, where the
        site is this machine, ``remote`` itself)."""
        ...


class LocalTransport:
    """The site is this machine."""

    kind = "local"

    def run(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)

    def read_bytes(self, path: str | Path, tail: int | None = None) -> bytes:
        with open(path, "rb") as fh:
            if tail is not None:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - tail))
            return fh.read()

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)

    def remove(self, path: str | Path) -> None:
        Path(path).unlink(missing_ok=True)

    def exists(self, path: str | Path) -> bool:
        return Path(path).exists()

    def put_folder(self, local: str | Path, remote: str | Path) -> None:
        source, target = Path(local).resolve(), Path(remote).resolve()
        if source == target:
            return
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.rglob("*")):
            destination = target / path.relative_to(source)
            if path.is_dir():
                destination.mkdir(exist_ok=True)
            elif not destination.exists():
                _link_or_copy(path, destination)

    def fetch_folder(self, remote: str | Path, local: str | Path) -> Path:
        return Path(remote)


def _link_or_copy(source: Path, destination: Path) -> None:
    """A hard link where the filesystem allows one (staged files are read-only, so sharing is safe)."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def read_text(transport: Transport, path: str | Path) -> str:
    """A text file on the site (undecodable bytes replaced)."""
    return transport.read_bytes(path).decode("utf-8", errors="replace")


def read_tail(transport: Transport, path: str | Path, lines: int = 20) -> tuple[str, ...]:
    """The last lines of a log on the site (empty when there is none)."""
    try:
        return tail_lines(transport.read_bytes(path, tail=TAIL_BYTES), lines)
    except OSError:
        return ()


def read_int(transport: Transport, path: str | Path) -> int | None:
    """A whole number a job wrote to a file on the site (None when the file is missing or partial)."""
    try:
        return int(transport.read_bytes(path).decode().strip())
    except (OSError, ValueError):
        return None
