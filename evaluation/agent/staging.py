"""Staging at the site: a lease's checkpoint and task suite, fetched once, checked, kept read-only and reused.

    cas/sha256/ab/cdef...        every fetched file once, named by its sha256, read-only (0444)
    cas/partial/<sha256>.part    a download in progress (resumed with HTTP Range after an interruption)
    models/<model sha256>/       the checkpoint folder: hard links to its files
    suites/<bundle sha256>/      the task suite: hard links, and the task configs with this folder written in

Every file is checked against its sha256 before it is used, and a folder against the digest the lease names,
so a later evaluation of the same checkpoint or suite fetches nothing. A Hub submission is downloaded from
the Hub at its pinned commit where the site says it reaches the Hub (``--hub``), else (or if that fails) from
the platform. ``housekeeping`` deletes folders and files no lease used for ``--keep-hours``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from evaluation.agent.client import PlatformClient, lease_path
from evaluation.agent.protocol import substitute, templated
from evaluation.policy import model_digest

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
USED = ".used"  # touched whenever a lease uses a folder: its mtime is the folder's last use
log = logging.getLogger("lagc.agent")


class StagingError(Exception):
    """A lease's files cannot be staged (the message says which and why)."""


class Stager:
    """Fetches and keeps the files of leases in the agent's work folder."""

    def __init__(
        self, workdir: Path, client: PlatformClient, hub_fetch: Callable[[str, str, str, Path], Path] | None = None
    ):
        self.root = Path(workdir)
        self.cas, self.partial = self.root / "cas" / "sha256", self.root / "cas" / "partial"
        self.client, self.hub_fetch = client, hub_fetch
        self.fetched = 0  # bytes fetched over the network since the last `take_fetched`

    def blob(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StagingError(f"{sha256!r} is not a sha256")
        return self.cas / sha256[:2] / sha256[2:]

    def fetch(self, evaluation_id: int, attempt: int, sha256: str, hub: tuple[str, str, str] | None = None) -> Path:
        """The file with this sha256 in the store, fetched from the Hub (``hub``: repo, commit, name) or the
        platform when it is not there yet."""
        target = self.blob(sha256)
        if target.exists():
            return target
        self.partial.mkdir(parents=True, exist_ok=True)
        part = self.partial / f"{sha256}.part"
        if hub is not None and self.hub_fetch is not None and self._from_hub(hub, part, sha256):
            pass
        else:
            try:
                self.fetched += self.client.download(
                    lease_path(evaluation_id, attempt, f"/files/{sha256}"), part, sha256
                )
            except ValueError as exc:  # the bytes did not have their sha256
                raise StagingError(str(exc)) from None
        os.chmod(part, READ_ONLY)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        return target

    def _from_hub(self, hub: tuple[str, str, str], part: Path, sha256: str) -> bool:
        """Download one file from the Hub into ``part``; False (and a log line) when that fails or its sha256
        differs, so the platform's copy is fetched instead."""
        repo, commit, name = hub
        try:
            downloaded = self.hub_fetch(repo, commit, name, self.partial / "hub")
            found = _sha256_of(downloaded)
            if found != sha256:
                raise ValueError(f"sha256 {found}, not the pinned {sha256}")
            shutil.move(str(downloaded), part)
            self.fetched += part.stat().st_size
            return True
        except Exception as exc:  # any Hub failure falls back to the platform, which has the same bytes
            log.warning(
                "%s@%s/%s could not be taken from the Hub (%s); fetching it from the platform",
                repo,
                commit[:12],
                name,
                exc,
            )
            return False

    def stage_model(self, evaluation_id: int, attempt: int, model: dict[str, Any]) -> Path:
        """The checkpoint folder (``models/<digest>``), made from its files once they are all checked."""
        files = [(f["name"], f["sha256"]) for f in model["files"]]
        if model_digest(files) != model["sha256"]:
            raise StagingError("the lease's file list does not add up to its model sha256")
        folder = self.root / "models" / model["sha256"]
        hub = model.get("hub")
        blobs = {
            name: self.fetch(evaluation_id, attempt, sha, (hub["repo"], hub["commit"], name) if hub else None)
            for name, sha in files
        }
        self._assemble(folder, {name: (path, None) for name, path in blobs.items()})
        return folder

    def stage_suite(self, evaluation_id: int, attempt: int, suite: dict[str, Any] | None) -> Path | None:
        """The task suite folder (``suites/<digest>``): its files checked, the task configs naming this folder."""
        if not suite:
            return None
        if model_digest((f["path"], f["sha256"]) for f in suite["files"]) != suite["sha256"]:
            raise StagingError("the lease's suite files do not add up to its bundle sha256")
        folder = self.root / "suites" / suite["sha256"]
        blobs = {f["path"]: self.fetch(evaluation_id, attempt, f["sha256"]) for f in suite["files"]}
        self._assemble(folder, {path: (blob, str(folder)) for path, blob in blobs.items()})
        return folder

    def _assemble(self, folder: Path, files: dict[str, tuple[Path, str | None]]) -> None:
        """Build the folder under a temporary name and rename it (complete or absent); a file that carries the
        suite's placeholder is written with ``folder`` in its place, every other is a hard link to its blob."""
        if folder.is_dir():
            (folder / USED).touch()
            return
        building = folder.with_name(f".{folder.name}.{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        for relative, (blob, suite_dir) in files.items():
            out = building / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            data = blob.read_bytes() if suite_dir is not None and templated(relative) else None
            if data is not None and (changed := substitute(data, relative, suite_dir)) != data:
                out.write_bytes(changed)
                os.chmod(out, READ_ONLY)
            else:
                _link(blob, out)
        (building / USED).touch()
        building.parent.mkdir(parents=True, exist_ok=True)
        os.rename(building, folder)

    def housekeeping(self, in_use: Iterable[Path], keep_seconds: float, now: float | None = None) -> int:
        """Delete staged folders no lease used for ``keep_seconds`` (never one in use), then the stored files
        nothing links any more and unchanged as long; returns how many were deleted."""
        now, keep, removed = now or time.time(), {Path(p).resolve() for p in in_use}, 0
        for kind in ("models", "suites"):
            for folder in sorted((self.root / kind).glob("*")) if (self.root / kind).is_dir() else []:
                if folder.resolve() in keep or not folder.is_dir() or folder.name.startswith("."):
                    continue
                if now - _mtime(folder / USED, folder) > keep_seconds:
                    shutil.rmtree(folder, onerror=_writable_and_retry)
                    removed += 1
        for blob in self.cas.glob("*/*") if self.cas.is_dir() else []:
            info = blob.stat()
            if info.st_nlink == 1 and now - info.st_ctime > keep_seconds:
                blob.unlink()
                removed += 1
        return removed


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem: a read-only copy
        shutil.copyfile(source, target)
        os.chmod(target, READ_ONLY)


def _mtime(path: Path, fallback: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return fallback.stat().st_mtime


def _writable_and_retry(function, path, _info) -> None:
    os.chmod(os.path.dirname(path), 0o755)
    function(path)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
