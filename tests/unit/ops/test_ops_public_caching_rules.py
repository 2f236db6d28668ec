"""The rules the public pages' fast path and Flask's views share: when a visitor's copy is still valid (a 304),
and the change signal whose identity moves on every announcement."""

from __future__ import annotations

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
