"""Storage housekeeping: delete blobs no submission links and staging/download folders left behind.

The rule is pure (`garbage.py`); this module walks the store, reads the submissions' states, deletes what
the rule allows and audits it. The scheduler runs it at most once an hour (`jobs.py`); `flask checkpoint gc
[--dry-run]` runs it by hand. uploads/ is never touched (`jobs.clean_abandoned_uploads` owns it), nor is any
pinned submissions/<id>/ folder.

How files are left behind (read from the code):
- Blobs no folder links:
  - a submission folder removed from outside the platform (the end of the winners' release obligation, an
    erasure or a cleanup by hand: nothing in the code removes one) leaves its blobs with one link;
  - a crash in `intake.complete` between storing the blobs and pinning them: the rerun usually pins them
    (the staged files stay until the pin), but if the submission is refused meanwhile its blobs stay;
  - a forced restore (`ops restore --force`) replaces the database but keeps the blobs (and the pinned and
    transient folders) already in the store that the backup does not hold;
  - a blob outlives every folder that linked it whenever those folders go; deduplication makes any such blob
    reusable by a later identical file, which is why reuse is guarded (below).
- Pinned folders that keep blobs alive though no accepted submission owns them (reported, never deleted):
  a forced restore leaves the old instance's folders. (`intake.reject` removes the folder an earlier run
  pinned, when a rerun of `complete` refuses the submission.)
- Unfinished pins: `Storage.pin` builds submissions/.<id>.<random>/ and renames it; a crash in between leaves
  it (with links to blobs), and the rerun builds another under a new random name.
- staging/<id> and downloads/<id>: the intake removes them when it decides, in the same step, so they stay
  mostly after a process is killed (SIGKILL, out of memory, node failure) mid-step: during a Hub download
  (the `finally` never runs) or a web `finalise` whose transaction never commits; after a forced restore,
  whose transient folders belong to other submissions of the old instance under the same ids; and when a
  submission row is gone. While the submission is still receiving or validating they are kept, since the
  next cycle or request reuses them (and a receiving Hub submission never expires).

Why deleting cannot race a submission being completed (blob stored, not yet linked into its folder):
- `store_blob` and `pin` run within seconds of each other; the grace period (24 h by default, at least 1 h,
  `LAGC_STORAGE_GC_GRACE_HOURS`) is measured on the blob's ctime, which every link, unlink and chmod
  refreshes. A new blob therefore stays young until it is pinned; a reused one is refreshed (a chmod) by
  `store_blob` under `Storage.blob_lock`, which the deletion holds exclusively while it re-checks the blob's
  inode, link count and ctime and unlinks it: the reuse either comes first (the re-check sees the new ctime
  and keeps the blob) or after (and then stores the file afresh).
- If a completion stops between storing and pinning (a crash, a scheduler down for days), its submission is
  still validating: the rule keeps every unreferenced blob whose ctime is not older than the time that
  submission was finalised, less the grace period (for clocks of the database host and the file server that
  disagree), until the submission is decided. Staging and download folders of submissions still receiving
  or validating are never deleted.
- The walk happens before the states are read, so a state is never older than what was seen on disk.

Crash safety: a blob goes with one unlink (nothing links it); a folder is renamed to a hidden `.gc-...` name
first (atomic) and then removed, and any such name found later is finished off. A half-done run leaves only
unused blobs and `.gc-` folders, which the next run removes.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from sqlmodel import Session, select

from app.audit.services import record
from app.checkpoints import garbage
from app.checkpoints.models import Submission
from app.checkpoints.services import storage_of
from app.checkpoints.storage import Storage, remove_tree
from app.ops.steps import for_each
from app.settings import Settings

log = logging.getLogger("lagc.checkpoints")
TRASH = ".gc-"
FOLDER_KINDS = ("staging", "downloads")  # the transient folders under the store's root (each a kind, too)


@dataclass
class Found:
    """What the walk saw: the rule's inputs, and each entry's identity for the re-check before deleting."""

    blobs: list[garbage.Blob] = field(default_factory=list)
    folders: list[garbage.Folder] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    blob_identity: dict[str, tuple[int, int]] = field(default_factory=dict)  # sha256 -> (inode, ctime ns)
    folder_paths: dict[tuple[str, str], Path] = field(default_factory=dict)  # (kind, name) -> path
    trash: list[Path] = field(default_factory=list)


@dataclass
class Outcome:
    """What a run removed (or, dry, would remove), what it kept and why, and what changed under it."""

    dry_run: bool
    plan: garbage.Plan
    removed: list[garbage.Decision] = field(default_factory=list)
    skipped: list[garbage.Decision] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.removed)

    def counts(self) -> dict[str, int]:
        kinds = ("blob", "staging", "downloads", "unfinished pin")
        return {kind: sum(1 for d in self.removed if d.kind == kind) for kind in kinds}


def collect(
    session: Session,
    settings: Settings,
    *,
    dry_run: bool = False,
    now: Optional[float] = None,
    trigger: str = "scheduler",
) -> Outcome:
    """Walk the store, decide with `garbage.plan`, delete (unless `dry_run`) and audit; the caller commits.

    `now` (seconds since the epoch) is the time ages are measured at; it defaults to the clock."""
    store = storage_of(settings)
    found = scan(store)
    states = submission_states(session)  # read after the walk: never older than what the walk saw
    plan = garbage.plan(
        found.blobs,
        found.folders,
        found.pinned,
        states,
        time.time() if now is None else now,
        settings.storage_gc_grace_hours * 3600,
    )
    outcome = Outcome(dry_run, plan)
    if dry_run:
        outcome.removed = list(plan.remove)
        return outcome
    for_each(session, found.trash, remove_tree, key=str, what="left-over folder")  # a killed run's
    for_each(
        session,
        plan.remove,
        lambda decision: _remove(store, found, decision, outcome),
        key=lambda decision: f"{decision.kind} {decision.name}",
        what="removal of",
    )
    if outcome.removed:
        record(
            session,
            "storage.collected",
            "storage",
            None,
            trigger=trigger,
            bytes=outcome.bytes,
            **{kind.replace(" ", "_"): n for kind, n in outcome.counts().items()},
            removed=[f"{d.kind} {d.name}" for d in outcome.removed[:50]],
        )
        log.info("storage housekeeping removed %s, %d bytes", outcome.counts(), outcome.bytes)
    return outcome


def _remove(store: Storage, found: Found, decision: garbage.Decision, outcome: Outcome) -> None:
    """Delete one unused blob or left-over folder (unless it is in use again), noting what was done."""
    done = _remove_blob(store, found, decision) if decision.kind == "blob" else _remove_folder(found, decision)
    (outcome.removed if done is None else outcome.skipped).append(
        decision if done is None else garbage.Decision(decision.kind, decision.name, 0, done)
    )


def submission_states(session: Session) -> dict[int, garbage.SubmissionState]:
    """Every submission's status and since when it may store blobs (finalised, else created)."""
    rows = session.exec(select(Submission.id, Submission.status, Submission.finalised_at, Submission.created_at)).all()
    return {
        row[0]: garbage.SubmissionState(row[0], getattr(row[1], "value", row[1]), _seconds(row[2] or row[3]))
        for row in rows
    }


def _seconds(moment: datetime) -> float:
    """Seconds since the epoch; SQLite gives naive datetimes, which are UTC here (`app.db.utcnow`)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def scan(store: Storage) -> Found:
    """Walk submissions/ (the inodes pinned folders link), blobs/sha256/, staging/ and downloads/."""
    found = Found()
    linked = _scan_submissions(store.root / "submissions", found)
    _scan_blobs(store.root / "blobs" / "sha256", linked, found)
    for kind in FOLDER_KINDS:
        for entry in _entries(store.root / kind):
            if entry.name.startswith(TRASH):
                found.trash.append(Path(entry.path))
            elif not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                _add_folder(
                    found, kind, entry.name, int(entry.name) if entry.name.isdigit() else None, Path(entry.path)
                )
    return found


def _scan_submissions(root: Path, found: Found) -> set[tuple[int, int]]:
    """Pinned folders' names, unfinished pins, and every (device, inode) any of them links."""
    linked: set[tuple[int, int]] = set()
    for entry in _entries(root):
        if entry.name.startswith(TRASH):
            found.trash.append(Path(entry.path))
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        for file in _entries(Path(entry.path)):
            info = file.stat(follow_symlinks=False)
            linked.add((info.st_dev, info.st_ino))
        if entry.name.isdigit():
            found.pinned.append(entry.name)
        elif entry.name.startswith(".") and entry.name[1:].split(".")[0].isdigit():
            _add_folder(found, "unfinished pin", entry.name, int(entry.name[1:].split(".")[0]), Path(entry.path))
    return linked


def _scan_blobs(root: Path, linked: set[tuple[int, int]], found: Found) -> None:
    for fan in _entries(root):
        if len(fan.name) != 2 or not fan.is_dir(follow_symlinks=False):
            continue
        for entry in _entries(Path(fan.path)):
            info = entry.stat(follow_symlinks=False)
            sha256 = fan.name + entry.name
            if not stat.S_ISREG(info.st_mode) or len(sha256) != 64:
                continue  # not a blob store_blob made: left alone
            found.blobs.append(
                garbage.Blob(sha256, info.st_size, info.st_nlink, info.st_ctime, (info.st_dev, info.st_ino) in linked)
            )
            found.blob_identity[sha256] = (info.st_ino, info.st_ctime_ns)


def _add_folder(found: Found, kind: str, name: str, submission_id: Optional[int], path: Path) -> None:
    size, changed_ns = _folder_facts(path)
    found.folders.append(garbage.Folder(kind, name, submission_id, size, changed_ns / 1e9))
    found.folder_paths[(kind, name)] = path


def _folder_facts(path: Path) -> tuple[int, int]:
    """The bytes deleting the folder frees (files linked nowhere else) and its newest ctime (ns)."""
    size, newest = 0, os.lstat(path).st_ctime_ns
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            info = os.lstat(os.path.join(folder, name))
            newest = max(newest, info.st_ctime_ns)
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                size += info.st_size
    return size, newest


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as scan:
            return list(scan)
    except FileNotFoundError:
        return []


def _remove_blob(store: Storage, found: Found, decision: garbage.Decision) -> Optional[str]:
    """Unlink a blob if it is still the one the walk saw, unlinked and unchanged; else say why not."""
    sha256 = decision.name.replace("sha256/", "").replace("/", "")
    path = store.blob_path(sha256)
    with store.blob_lock(exclusive=True):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return "already gone"
        if info.st_nlink != 1 or (info.st_ino, info.st_ctime_ns) != found.blob_identity[sha256]:
            return "linked or changed since the walk: kept"
        try:
            path.unlink()  # the blob is 0444, but unlinking needs only its (writable) fan-out folder
        except OSError as error:
            return f"could not delete it: {error}"
    log.info("removed blob %s (%d bytes): %s", sha256, decision.bytes, decision.reason)
    return None


def _remove_folder(found: Found, decision: garbage.Decision) -> Optional[str]:
    """Rename the folder to a hidden .gc- name if unchanged since the walk, then delete it; else say why not."""
    path = found.folder_paths[(decision.kind, decision.name)]
    planned = next(f.changed_at for f in found.folders if (f.kind, f.name) == (decision.kind, decision.name))
    try:
        if _folder_facts(path)[1] / 1e9 != planned:
            return "changed since the walk: kept"
        trash = path.with_name(f"{TRASH}{path.name.lstrip('.')}-{secrets.token_hex(4)}")
        os.rename(path, trash)
        remove_tree(trash)
    except FileNotFoundError:
        return "already gone"
    except OSError as error:
        return f"could not delete it: {error}"
    log.info("removed %s %s (%d bytes): %s", decision.kind, decision.name, decision.bytes, decision.reason)
    return None
