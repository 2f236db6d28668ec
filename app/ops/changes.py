"""The signal that what public pages show has changed, read by every web worker in a few microseconds.

Web workers keep rendered public pages (`app.ops.public_cache`) and the board's head
(`leaderboard.cache`); both are keyed on `generation()`, which changes when:

- the scheduler stores new leaderboard snapshots: it then calls `announce`, which adds one to the counter in
  the signal file `<instance>/signals/public-pages` (8 bytes, written in place under a lock), so every gunicorn
  worker (and every web process sharing the instance folder) drops what it kept at its next request. A worker
  keeps the file open and reads the counter with one `pread` (well under a microsecond; a `stat` of the path
  cost several times more on the fast path, `bench/leaderboard_load.py` measures it), and looks at the path
  itself once a second, so a signal file replaced or first written meanwhile (a restore) is followed;
- this process commits a database transaction: whatever a worker changed itself (an organiser's form, a
  command, a test's data) it never serves from what it kept before.

A change nobody announces (another worker's form, a command run elsewhere, a web process on a host that
does not share the instance folder) is seen within the keepers' time-to-live (one second).
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import time
from pathlib import Path
from typing import Optional

from sqlalchemy import event
from sqlalchemy.orm import Session

SIGNAL = Path("signals") / "public-pages"
RECHECK = 1.0  # seconds between looks at the signal's path (replaced or created meanwhile?)
COUNTER = struct.Struct("<Q")
_commits = [0]  # this process's commits; a plain counter: a lost increment still changes the value
log = logging.getLogger("lagc.ops")


def signal_path(instance_dir: Path) -> Path:
    """The signal file of an instance folder."""
    return Path(instance_dir) / SIGNAL


class _Reader:
    """The signal file held open, its counter read with one `pread`; the path itself is looked at again
    every ``RECHECK`` seconds (a file replaced, or written for the first time, is followed within that time;
    `ensure_signal` writes it when a web process starts, so the first announcement is seen at once)."""

    __slots__ = ("path", "fd", "identity", "checked")

    def __init__(self, path: Path):
        self.path, self.fd, self.identity, self.checked = str(path), None, None, -RECHECK

    def value(self) -> Optional[tuple]:
        now = time.monotonic()
        if now - self.checked >= RECHECK:
            self.checked = now
            self._follow()
        if self.fd is None:
            return None
        try:
            return (self.identity, os.pread(self.fd, COUNTER.size, 0))
        except OSError:
            return None

    def _follow(self) -> None:
        """(Re)open the file when the path now names another file, or none."""
        try:
            found = os.stat(self.path)
        except OSError:
            self._close()
            return
        identity = (found.st_dev, found.st_ino)
        if identity == self.identity and self.fd is not None:
            return
        self._close()
        try:
            self.fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        self.identity = identity

    def _close(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
        self.fd = self.identity = None


_readers: dict[str, _Reader] = {}


def _reader(signal: Path) -> _Reader:
    key = str(signal)
    reader = _readers.get(key)
    return reader if reader is not None else _readers.setdefault(key, _Reader(signal))


def generation(signal: Path) -> tuple:
    """What the public pages' content is keyed on: this process's commit count and the signal file's
    counter (with the file's identity; None while there is no signal file)."""
    return (_commits[0], _reader(signal).value())


class Watch:
    """`generation` of one signal file, for a caller asking on every request (the reader found once)."""

    __slots__ = ("reader",)

    def __init__(self, signal: Path):
        self.reader = _reader(signal)

    def __call__(self) -> tuple:
        return (_commits[0], self.reader.value())


def ensure_signal(instance_dir: Path) -> None:
    """Write an empty signal file when there is none (a web process starting), so workers hold it open from
    their first request and see the first announcement at once; a failure is logged, never raised."""
    target = signal_path(instance_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644))
    except OSError:
        log.warning("could not write the public pages' change signal %s", target, exc_info=True)


def announce(instance_dir: Path) -> None:
    """Tell every web worker that public pages changed (after the change is committed): the counter in the
    signal file goes up by one, written in place under an exclusive lock (so two announcers never write the
    same value), and this process's reader looks at the path again at once (the file may be new). A
    failure is logged, never raised: the workers then see the change within their time-to-live."""
    target = signal_path(instance_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.pread(fd, COUNTER.size, 0)
            before = COUNTER.unpack(held)[0] if len(held) == COUNTER.size else 0
            os.pwrite(fd, COUNTER.pack((before + 1) % 2**64), 0)
        finally:
            os.close(fd)  # also releases the lock
    except OSError:
        log.warning("could not write the public pages' change signal %s", target, exc_info=True)
    reader = _readers.get(str(target))
    if reader is not None:
        reader.checked = -RECHECK


def _committed(_session) -> None:
    _commits[0] += 1


def watch_commits() -> None:
    """Count this process's commits into `generation` (idempotent)."""
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
