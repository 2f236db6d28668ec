"""What storage housekeeping may delete: a pure rule over what was found on disk and the submissions' states.

`plan` gets the blobs (with their link count, whether a pinned folder links them, and when their links last
changed), the staging, download and unfinished-pin folders (with the submission they belong to and when
anything in them last changed), the names of the pinned folders, the submissions' states, the time now and
the grace period. It returns what to delete and why, and what it kept although it looked unused, and why.

- A blob goes when nothing links it (one link, and no pinned folder holds its inode), its links last changed
  more than the grace period ago, and no submission still being validated may link it: a blob whose links
  changed after such a submission was finalised (less the grace period, for clocks that disagree) is kept.
- A staging, download or unfinished-pin folder goes when its submission is no longer being received or
  validated (accepted, refused, or gone) and nothing in it changed for more than the grace period.
- Exactly at the grace period an entry is still kept. Pinned folders are never deleted; one that belongs to
  no accepted or validating submission is reported for a person to look at. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

IN_PROGRESS = ("receiving", "validating")


@dataclass(frozen=True)
class Blob:
    """A file under blobs/sha256/: `changed_at` is its ctime (the last link, unlink or chmod), in seconds."""

    sha256: str
    bytes: int
    links: int
    changed_at: float
    pinned: bool  # a submissions/<id>/ folder links the same inode (checked even when `links` says 1)


@dataclass(frozen=True)
class Folder:
    """A staging/, downloads/ or unfinished submissions/.<id>.<random> folder.

    `bytes` is what deleting it frees (files linked nowhere else); `changed_at` the newest ctime in it."""

    kind: str  # "staging", "downloads" or "unfinished pin"
    name: str
    submission_id: Optional[int]
    bytes: int
    changed_at: float


@dataclass(frozen=True)
class SubmissionState:
    """A submission's status, and since when it may be storing blobs (finalised, else created), in seconds."""

    id: int
    status: str
    since: float


@dataclass(frozen=True)
class Decision:
    """One entry to delete or to keep, with the reason in words."""

    kind: str  # "blob", "staging", "downloads", "unfinished pin" or "pinned folder"
    name: str
    bytes: int
    reason: str


@dataclass(frozen=True)
class Plan:
    remove: tuple[Decision, ...] = ()
    keep: tuple[Decision, ...] = ()  # entries that looked unused but stay, with why

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.remove)


def plan(
    blobs: Iterable[Blob],
    folders: Iterable[Folder],
    pinned: Iterable[str],
    submissions: Mapping[int, SubmissionState],
    now: float,
    grace_seconds: float,
) -> Plan:
    """What to delete now and what to keep (with the reasons); see the module's docstring for the rule."""
    validating = [s for s in submissions.values() if s.status == "validating"]
    remove: list[Decision] = []
    keep: list[Decision] = []
    for blob in blobs:
        decided = _blob(blob, validating, now, grace_seconds)
        if decided is not None:
            (remove if decided[0] else keep).append(decided[1])
    for folder in folders:
        removable, decision = _folder(folder, submissions, now, grace_seconds)
        (remove if removable else keep).append(decision)
    keep += [d for d in (_pinned(name, submissions) for name in pinned) if d is not None]
    return Plan(tuple(remove), tuple(keep))


def _blob(blob: Blob, validating: list[SubmissionState], now: float, grace: float) -> Optional[tuple[bool, Decision]]:
    """(removable, decision) for an unreferenced blob; None for one a folder links (nothing to say)."""
    if blob.pinned or blob.links > 1:
        return None
    name = f"sha256/{blob.sha256[:2]}/{blob.sha256[2:]}"
    age = now - blob.changed_at
    if age <= grace:
        return False, Decision("blob", name, blob.bytes, f"unlinked for {_hours(age)} only (grace period)")
    holders = sorted(s.id for s in validating if blob.changed_at >= s.since - grace)
    if holders:
        return False, Decision(
            "blob", name, blob.bytes, f"submission {holders[0]} is still being validated and may link it"
        )
    return True, Decision("blob", name, blob.bytes, f"no submission links it (for {_hours(age)})")


def _folder(
    folder: Folder, submissions: Mapping[int, SubmissionState], now: float, grace: float
) -> tuple[bool, Decision]:
    """(removable, decision) for a staging, download or unfinished-pin folder."""

    def decision(reason: str) -> Decision:
        return Decision(folder.kind, folder.name, folder.bytes, reason)

    if folder.submission_id is None:
        return False, decision("not named after a submission: left for a person to look at")
    state = submissions.get(folder.submission_id)
    if state is not None and state.status in IN_PROGRESS:
        return False, decision(f"submission {state.id} is still {_doing(state.status)}")
    age = now - folder.changed_at
    if age <= grace:
        return False, decision(f"changed {_hours(age)} ago (grace period)")
    whose = (
        f"submission {folder.submission_id} no longer exists"
        if state is None
        else f"submission {state.id} was {'refused' if state.status == 'rejected' else state.status}"
    )
    return True, decision(f"{whose} (unchanged for {_hours(age)})")


def _pinned(name: str, submissions: Mapping[int, SubmissionState]) -> Optional[Decision]:
    """A pinned folder no accepted or validating submission owns: kept, but worth a person's look."""
    state = submissions.get(int(name)) if name.isdigit() else None
    if state is not None and state.status in ("accepted", "validating"):
        return None
    status = None if state is None else ("refused" if state.status == "rejected" else state.status)
    whose = "no submission" if status is None else f"a {status} submission"
    return Decision(
        "pinned folder",
        name,
        0,
        f"belongs to {whose}: never deleted here; remove it by hand "
        "if nothing needs it, and its blobs are collected afterwards",
    )


def _doing(status: str) -> str:
    return "being received" if status == "receiving" else "being validated"


def _hours(seconds: float) -> str:
    hours = max(seconds, 0) / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
