"""The signal that what public pages show has changed, read by every web worker in a few microseconds.

Web workers keep rendered public pages (`app.ops.public_cache`) and the board's head
(`leaderboard.cache`); both are keyed on `generation()`, which changes when:

- the scheduler stores new leaderboard snapshots: it then calls `announce`, which replaces the signal file
  `<instance>/signals/public-pages`, so every gunicorn worker (and every web process sharing the instance
  folder) drops what it kept at its next request. Reading the signal is one `stat` (about 2 µs;
  `bench/leaderboard_load.py` measures it);
- this process commits a database transaction: whatever a worker changed itself (an organiser's form, a
  command, a test's data) it never serves from what it kept before.

A change nobody announces (another worker's form, a command run elsewhere, a web process on a host that
does not share the instance folder) is seen within the keepers' time-to-live (one second).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

SIGNAL = Path("signals") / "public-pages"
_commits = [0]  # this process's commits; a plain counter: a lost increment still changes the value
log = logging.getLogger("lagc.ops")


def signal_path(instance_dir: Path) -> Path:
    """The signal file of an instance folder."""
    return Path(instance_dir) / SIGNAL


def generation(signal: Path) -> tuple:
    """What the public pages' content is keyed on: this process's commit count and the signal file's
    identity (inode, modification time in ns, size), or None for a signal never written."""
    try:
        found = os.stat(signal)
    except FileNotFoundError:
        return (_commits[0], None)
    return (_commits[0], found.st_ino, found.st_mtime_ns, found.st_size)


def announce(instance_dir: Path) -> None:
    """Tell every web worker that public pages changed (after the change is committed): the signal file is
    replaced by a new one with a later modification time, so its identity differs even within one clock
    tick. A failure is logged, never raised: the workers then see the change within their time-to-live."""
    target = signal_path(instance_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        before = os.stat(target).st_mtime_ns if target.exists() else 0
        stamp = max(time.time_ns(), before + 1)
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        temporary.write_text(f"{stamp}\n")
        os.utime(temporary, ns=(stamp, stamp))
        os.replace(temporary, target)
    except OSError:
        log.warning("could not write the public pages' change signal %s", target, exc_info=True)


def _committed(_session) -> None:
    _commits[0] += 1


def watch_commits() -> None:
    """Count this process's commits into `generation` (idempotent)."""
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
