"""Checkpoint storage on disk, under `settings.storage_dir` (on a supercomputer: the shared project filesystem).

    uploads/<upload id>.part        a tus upload while its chunks arrive (private, never read by anyone else)
    staging/<submission id>/        hard links giving the parts their real names, for validation
    downloads/<submission id>/      a Hugging Face Hub download in progress
    blobs/sha256/ab/cdef...         every accepted file once, content-addressed, read-only
    submissions/<submission id>/    the pinned checkpoint folder: read-only hard links to the blobs

A file only reaches `blobs/` after it was fsynced under a temporary name; `os.link` then publishes it
atomically and fails if the blob already exists, so identical files are stored once and a half-written
file never sits where a good one is expected. Nothing here touches the database. Unused blobs and left-over
folders are deleted by `housekeeping.py`; `staging/.blobs.lock` keeps it from deleting a blob being reused.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

BLOCK_BYTES = 1024 * 1024
READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # 0444
READ_ONLY_DIR = READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH  # 0555
LOCK_NAME = ".blobs.lock"
log = logging.getLogger("lagc.checkpoints")


class ChecksumMismatch(ValueError):
    """The chunk's bytes do not have the sha256 the client announced."""


class IncompleteChunk(ValueError):
    """The request body ended before its Content-Length (the client went away)."""


class UploadBusy(RuntimeError):
    """Another request is writing to this upload right now."""


class Part:
    """An open, exclusively locked upload part file."""

    def __init__(self, descriptor: int):
        self.fd = descriptor

    def append(self, offset: int, stream: BinaryIO, count: int, checksum: bytes | None) -> int:
        """Write `count` bytes from `stream` at the confirmed `offset`; return the new offset.

        Bytes past `offset` (a chunk cut short by a crash) are dropped first. The chunk is read in fixed
        blocks, never held whole; if its sha256 differs from `checksum` or the body ends early, the file
        is cut back to `offset` and nothing of the chunk remains. The data is fsynced before returning,
        so the returned offset is a confirmed byte.
        """
        if os.fstat(self.fd).st_size < offset:
            raise OSError(errno.EIO, "the upload's file is shorter than its confirmed offset")
        os.ftruncate(self.fd, offset)
        os.lseek(self.fd, offset, os.SEEK_SET)
        digest = hashlib.sha256() if checksum is not None else None
        try:
            _copy(stream, self.fd, count, digest)
            if digest is not None and digest.digest() != checksum:
                raise ChecksumMismatch("the chunk's sha256 differs from its Upload-Checksum")
        except BaseException:
            os.ftruncate(self.fd, offset)
            raise
        os.fdatasync(self.fd)
        _forget(self.fd, offset, count)
        return offset + count


def _copy(stream: BinaryIO, descriptor: int, count: int, digest) -> None:
    """Copy exactly `count` bytes from `stream` to `descriptor` in blocks, hashing them if asked."""
    remaining = count
    while remaining:
        data = _read(stream, min(BLOCK_BYTES, remaining))
        if not data:
            raise IncompleteChunk(f"the body ended {remaining:,} bytes early")
        if digest is not None:
            digest.update(data)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        remaining -= len(data)


def _read(stream: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes of the body (none when it ended).

    A reset or timed-out connection raises OSError from the server's reader: like an early end, that
    is the client going away (Werkzeug's own stream treats it the same way), not a server fault.
    """
    try:
        return stream.read(size)
    except (OSError, ValueError) as error:
        raise IncompleteChunk(f"the connection failed while the body was read ({error})") from None


def _forget(descriptor: int, offset: int, count: int) -> None:
    """Tell the kernel it may drop the chunk's pages from its cache, now that they are on disk.

    A part is written once and read once, much later, by validation. Keeping gigabytes of it cached
    makes every chunk fill fresh cache pages, which costs the worker more CPU than hashing the chunk
    (bench/upload_throughput.py), and charges the web workers' memory group for nothing. Advice only.
    """
    if count and hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(descriptor, offset, count, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass  # a filesystem that takes no advice keeps its cache; the data is already safe


class Storage:
    """The storage tree under one root."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    def part_path(self, upload_id: str) -> Path:
        """Where upload `upload_id` collects its bytes (ids are hex, never a path)."""
        if not upload_id.isalnum():
            raise ValueError("upload ids are alphanumeric")
        return self.uploads / f"{upload_id}.part"

    def staging(self, submission_id: int) -> Path:
        return self.root / "staging" / str(submission_id)

    def download_dir(self, submission_id: int) -> Path:
        """Where a Hub download lands before its accepted files move to staging."""
        return self.root / "downloads" / str(submission_id)

    def submission_dir(self, submission_id: int) -> Path:
        return self.root / "submissions" / str(submission_id)

    def blob_path(self, sha256: str) -> Path:
        """The content-addressed path of a file whose sha256 (hex) is `sha256`."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / "blobs" / "sha256" / sha256[:2] / sha256[2:]

    def create_part(self, upload_id: str) -> None:
        """Create the empty part file of a new upload (never reusing an existing one)."""
        self.uploads.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.part_path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    @contextmanager
    def open_part(self, upload_id: str) -> Iterator[Part]:
        """The part file, locked for writing; raises UploadBusy when another request holds it."""
        descriptor = os.open(self.part_path(upload_id), os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy("another request is writing to this upload") from None
            yield Part(descriptor)
        finally:
            os.close(descriptor)

    def remove_part(self, upload_id: str) -> None:
        """Delete an upload's part file if it is there."""
        self.part_path(upload_id).unlink(missing_ok=True)

    def stage(self, submission_id: int, parts: Iterable[tuple[str, Path]]) -> Path:
        """A fresh staging folder holding each (name, file) as a hard link called `name`."""
        folder = self.staging(submission_id)
        remove_tree(folder)
        folder.mkdir(parents=True)
        for name, source in parts:
            os.link(source, folder / name, follow_symlinks=False)
        return folder

    def store_blob(self, path: Path, sha256: str) -> Path:
        """Publish the file at `path` (whose content hashes to `sha256`) as a read-only blob.

        The file is fsynced and made read-only under its temporary name, then hard-linked into place;
        when the blob already exists (an identical file) the existing one is kept. `path` stays (a second
        link, no extra space) until its staging folder is removed after the pin, so a run that crashes
        between storing and pinning finds every file again when it is rerun.
        """
        blob = self.blob_path(sha256)
        blob.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.fsync(descriptor)
            os.fchmod(descriptor, READ_ONLY_FILE)
        finally:
            os.close(descriptor)
        with self.blob_lock():
            try:
                os.link(path, blob, follow_symlinks=False)
                _fsync_dir(blob.parent)
            except FileExistsError:  # stored once already: identical content, identical name
                _touch(blob)
        return blob

    @contextmanager
    def blob_lock(self, exclusive: bool = False) -> Iterator[None]:
        """Held shared while `store_blob` publishes or reuses a blob, and exclusively while housekeeping
        re-checks and deletes one (`housekeeping.py`), so a blob is never reused and deleted at once.

        The lock file lives in staging/, which backups skip; it is held for one link or unlink only.
        """
        path = self.root / "staging" / LOCK_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(descriptor)

    def pin(self, submission_id: int, files: Iterable[tuple[str, str]]) -> Path:
        """Build the read-only folder of a submission from (name, sha256) pairs; returns it.

        Built under a temporary name and renamed, so the folder either is complete or is not there.
        """
        final = self.submission_dir(submission_id)
        if final.exists():
            return final  # pinned by an earlier run that stopped before recording it
        final.parent.mkdir(parents=True, exist_ok=True)
        building = final.with_name(f".{submission_id}.{secrets.token_hex(4)}")
        building.mkdir()
        for name, sha256 in files:
            os.link(self.blob_path(sha256), building / name, follow_symlinks=False)
        os.chmod(building, READ_ONLY_DIR)
        os.rename(building, final)
        _fsync_dir(final.parent)
        return final


def remove_tree(path: Path) -> None:
    """Delete a folder we own (staging, downloads), making read-only parts writable first."""
    if not path.exists():
        return
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o700)
    shutil.rmtree(path)


def _touch(blob: Path) -> None:
    """Refresh a reused blob's ctime (its mode stays 0444), so housekeeping sees it as just used: an old
    unreferenced blob about to be linked by a new submission is then inside the grace period again."""
    try:
        os.chmod(blob, READ_ONLY_FILE)
    except OSError as error:  # not ours (restored by another user): only the pin's few seconds are exposed
        log.warning("could not refresh the ctime of reused blob %s (%s)", blob.name, error)


def _fsync_dir(path: Path) -> None:
    """Make a rename or link inside `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
