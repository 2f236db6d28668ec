"""CSV the platform writes is safe to open in a spreadsheet (OWASP's advice on CSV injection): text that a
spreadsheet would run as a formula is prefixed with a single quote; numbers the platform computed stay
numbers, negative ones included."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from app.csvfile import cell, csv_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","x")',
        "+1+2",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "\tTAB",
        "\rCR",
        "-1",
        "=",
        "'=already quoted"[1:],
    ],
)
def test_text_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Aurora Labs", "", "a=b", "x-1", "'quoted", '{"a": "=1"}', "1.5"])
def test_ordinary_text_is_unchanged(text):
    assert cell(text) == text


@pytest.mark.parametrize(
    "number, written", [(-0.25, "-0.25"), (3, "3"), (-7, "-7"), (Decimal("-1.50"), "-1.50"), (1e-7, "1e-07")]
)
def test_numbers_the_platform_computed_stay_numbers(number, written):
    assert cell(number) == written


def test_none_is_empty_and_booleans_are_words():
    assert (cell(None), cell(True), cell(False)) == ("", "true", "false")


def test_a_csv_round_trips_through_a_reader_with_quotes_and_separators_in_cells():
    text = csv_text(["team", "score"], [['=1+2";=1+2', -0.5], ['a,"b"\nc', None]])
    assert list(csv.reader(io.StringIO(text))) == [["team", "score"], ["'=1+2\";=1+2", "-0.5"], ['a,"b"\nc', ""]]


def test_every_csv_the_platform_writes_goes_through_the_one_writer():
    writers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("app", "evaluation", "leaderboard", "scoring")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"\bcsv\.(writer|DictWriter)\b", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["app/csvfile.py"]
