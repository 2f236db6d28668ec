"""The rules the public pages' fast path and Flask's views share: when a visitor's copy is still valid (a 304),
and the change signal whose identity moves on every announcement."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from app.ops import changes
from app.ops.headers import still_valid

COMPUTED = datetime(2026, 5, 1, 12, 0, 30, 250_000, tzinfo=timezone.utc)
SAME_SECOND = "Fri, 01 May 2026 12:00:30 GMT"


@pytest.mark.parametrize(
    "if_none_match, if_modified_since, valid",
    [
        ('"abc"', None, True),
        ('"old", "abc"', None, True),
        ("*", None, True),
        ('"old"', None, False),
        ('W/"abc"', None, False),  # Flask's strong comparison, which the fast path must repeat
        ('"old"', SAME_SECOND, False),  # If-None-Match decides when both are sent
        (None, SAME_SECOND, True),  # HTTP dates have whole seconds
        (None, "Fri, 01 May 2026 12:00:29 GMT", False),
        (None, "Sat, 02 May 2026 00:00:00 GMT", True),
        (None, "not a date", False),
        (None, None, False),
    ],
)
def test_a_copy_is_still_valid_by_its_etag_or_else_by_its_date(if_none_match, if_modified_since, valid):
    assert still_valid("abc", COMPUTED, if_none_match, if_modified_since) is valid


def test_a_time_the_database_gave_back_without_a_zone_is_read_as_utc():
    naive = COMPUTED.replace(tzinfo=None)
    assert still_valid("abc", naive, None, SAME_SECOND)
    assert not still_valid("abc", naive, None, "Fri, 01 May 2026 12:00:29 GMT")


def test_a_page_without_a_last_modified_is_only_revalidated_by_its_etag():
    assert not still_valid("abc", None, None, SAME_SECOND)


def test_every_announcement_moves_the_signal_even_within_one_clock_tick(tmp_path):
    signal = changes.signal_path(tmp_path)
    seen = {changes.generation(signal)}
    for _ in range(20):
        changes.announce(tmp_path)
        seen.add(changes.generation(signal))
    assert len(seen) == 21
    assert [path.name for path in signal.parent.iterdir()] == [signal.name]  # no temporary file left behind


def test_an_announcement_that_cannot_be_written_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "signals").write_text("a file where the folder should be")
    changes.announce(tmp_path)
    assert "could not write" in caplog.text


def test_a_signal_file_replaced_or_first_written_by_another_process_is_followed(tmp_path, monkeypatch):
    """Another process's announcement moves the counter at once; a file replaced (a restore) or written
    only after the reader first looked is followed when the reader looks at the path again (RECHECK)."""
    signal = changes.signal_path(tmp_path)
    watch = changes.Watch(signal)
    assert watch()[1] is None  # no signal yet
    changes.ensure_signal(tmp_path)
    monkeypatch.setattr(changes, "RECHECK", 0.0)
    first = watch()
    assert first[1] is not None
    with open(signal, "r+b") as other:  # as `announce` in the scheduler's process writes it
        other.write(changes.COUNTER.pack(41))
    second = watch()
    assert second != first and second[1][1] == changes.COUNTER.pack(41)
    replacement = signal.with_name("restored")
    replacement.write_bytes(changes.COUNTER.pack(41))
    os.replace(replacement, signal)  # the same counter, another file
    assert watch() not in (first, second)


def test_request_ids_are_unique_look_like_ids_and_differ_in_a_forked_worker():
    from app.ops.observability import REQUEST_ID, new_request_id, request_id_for

    made = [request_id_for("") for _ in range(10_000)]
    assert len(set(made)) == len(made) and all(REQUEST_ID.match(i) and len(i) == 32 for i in made)
    assert request_id_for("given-id-7") == "given-id-7" and request_id_for("<bad>") != "<bad>"
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a gunicorn worker forked from the master
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 64).decode()[:16] != new_request_id()[:16]
