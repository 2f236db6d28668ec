"""The award chain: append-only award records, each carrying the hash of the one before it.

Pure rules, standard library only. A record's hash is the sha256 of the
previous record's hash, a newline, and the canonical JSON of its payload
(sorted keys, no spaces, UTF-8 kept as is). The first record links to
``GENESIS_HASH``. Editing, removing or reordering records breaks a hash or a
link, and ``verify_chain`` says which record and why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainRecord:
    """One award record as stored: its id, what was decided, and the two hashes."""

    id: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainCheck:
    """Whether a chain is intact; ``problems`` names the first broken record and why."""

    ok: bool
    problems: list[str] = field(default_factory=list)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The one JSON spelling of a payload that every hash is computed over."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    """The sha256 (hex) of the previous hash, a newline, and the payload's canonical JSON."""
    text = f"{prev_hash}\n{canonical_json(payload)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def next_record(records: Sequence[ChainRecord], record_id: str, payload: Mapping[str, Any]) -> ChainRecord:
    """The record to append after ``records`` (the caller stores it; nothing here is mutated)."""
    prev_hash = records[-1].hash if records else GENESIS_HASH
    return ChainRecord(record_id, payload, prev_hash, record_hash(prev_hash, payload))


def verify_chain(records: Sequence[ChainRecord], head_hash: str | None = None) -> ChainCheck:
    """Check every record's hash and link, stopping at the first broken record.

    A chain cannot show that records were cut off its end; pass the last hash
    known from elsewhere (a published receipt, say) as ``head_hash`` to check that too.
    """
    hashes = [r.hash for r in records]
    for index, record in enumerate(records):
        problems = _record_problems(records, hashes, index)
        if problems:
            return ChainCheck(False, problems)
    if head_hash is not None and (hashes[-1] if hashes else GENESIS_HASH) != head_hash:
        return ChainCheck(False, [_truncated_message(records, head_hash)])
    return ChainCheck(True, [])


def _record_problems(records: Sequence[ChainRecord], hashes: list[str], index: int) -> list[str]:
    """What is wrong with the record at ``index``: its own hash, then its link."""
    record = records[index]
    label = f"record {index} ({record.id!r})"
    problems = []
    try:
        edited = record_hash(record.prev_hash, record.payload) != record.hash
    except (TypeError, ValueError):
        edited = True
    if edited:
        problems.append(f"{label}: its contents were changed after it was recorded (edited payload)")
    expected = hashes[index - 1] if index else GENESIS_HASH
    if record.prev_hash != expected:
        problems.append(f"{label}: {_link_problem(records, hashes, index)}")
    return problems


def _link_problem(records: Sequence[ChainRecord], hashes: list[str], index: int) -> str:
    """Why a link is broken: the record it follows is later in the list, missing, or unknown."""
    prev_hash = records[index].prev_hash
    if prev_hash in hashes[index:]:
        later = hashes.index(prev_hash, index)
        return (
            f"out of order (reordered): it was recorded after record {later} "
            f"({records[later].id!r}), which now comes later"
        )
    if prev_hash == GENESIS_HASH:
        return "broken link: it claims to be the first record, but records come before it"
    if index == 0:
        return "broken link: the record before it is missing (the chain does not start at genesis)"
    return "broken link: it does not follow the record before it; a record between them is missing or was replaced"


def _truncated_message(records: Sequence[ChainRecord], head_hash: str) -> str:
    if head_hash in (r.hash for r in records):
        return "records after the expected last record were added (head hash is not the last)"
    return "the chain does not end at the expected last record: records are missing from its end"
