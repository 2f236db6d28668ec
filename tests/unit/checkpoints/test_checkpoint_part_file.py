"""Appending a chunk to an upload's part file: exact bytes, hashed, and nothing left of a failed chunk."""

from __future__ import annotations

import hashlib
import io

import pytest

from app.checkpoints import storage as storage_module
from app.checkpoints.storage import ChecksumMismatch, IncompleteChunk, Storage


class _Resets(io.RawIOBase):
    """A body that gives `data`, then fails the way a reset connection does."""

    def __init__(self, data: bytes):
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.data:
            raise ConnectionResetError(104, "Connection reset by peer")
        count = min(len(buffer), len(self.data))
        buffer[:count], self.data = self.data[:count], self.data[count:]
        return count


@pytest.fixture
def part_file(tmp_path):
    store = Storage(tmp_path)
    store.create_part("abc123")
    return store, store.part_path("abc123")


def test_a_chunk_larger_than_a_block_is_appended_exactly_and_checked(part_file, monkeypatch):
    monkeypatch.setattr(storage_module, "BLOCK_BYTES", 7)  # many blocks, the last one short
    store, path = part_file
    first, second = b"a" * 30, bytes(range(256)) * 3
    with store.open_part("abc123") as part:
        assert part.append(0, io.BytesIO(first), 30, hashlib.sha256(first).digest()) == 30
        assert part.append(30, io.BytesIO(second + b"not part of the chunk"), len(second), None) == 30 + len(second)
    assert path.read_bytes() == first + second


def test_bytes_past_the_confirmed_offset_are_dropped_before_appending(part_file):
    store, path = part_file
    path.write_bytes(b"confirmed" + b"left by a crash")
    with store.open_part("abc123") as part:
        part.append(9, io.BytesIO(b"!"), 1, None)
    assert path.read_bytes() == b"confirmed!"


@pytest.mark.parametrize(
    "body, error",
    [
        (io.BytesIO(b"short"), IncompleteChunk),
        (_Resets(b"short"), IncompleteChunk),
        (io.BytesIO(b"wrong bytes"), ChecksumMismatch),
    ],
    ids=["body ends early", "connection resets", "checksum differs"],
)
def test_a_failed_chunk_leaves_the_file_at_its_confirmed_offset(part_file, body, error):
    store, path = part_file
    path.write_bytes(b"confirmed")
    with store.open_part("abc123") as part:
        with pytest.raises(error):
            part.append(9, body, 11, hashlib.sha256(b"right bytes").digest())
    assert path.read_bytes() == b"confirmed"
