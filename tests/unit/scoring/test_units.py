"""The one byte formatter: decimal units, one decimal below 100, none above, never "0.0 GB"."""

import pytest
from hypothesis import given, strategies as st

from scoring.units import exact_bytes, human_bytes


@pytest.mark.parametrize(
    "count, shown",
    [
        (None, "—"),
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (621_412, "621 kB"),
        (999_499, "999 kB"),
        (999_500, "1.0 MB"),
        (1_500_000, "1.5 MB"),
        (60_200_000_000, "60.2 GB"),
        (200 * 10**9, "200 GB"),
        (3 * 10**15, "3.0 PB"),
    ],
)
def test_a_byte_count_reads_in_human_units(count, shown):
    assert human_bytes(count) == shown


@given(st.integers(min_value=1000, max_value=10**17))
def test_every_size_shows_a_number_from_1_to_999_with_a_unit(count):
    number, unit = human_bytes(count).split()
    assert 1 <= float(number) < 1000 and unit in ("kB", "MB", "GB", "TB", "PB")


def test_a_limit_message_gives_the_size_readable_and_exact():
    assert exact_bytes(4000) == "4.0 kB (4,000 bytes)" and exact_bytes(999) == "999 bytes"
