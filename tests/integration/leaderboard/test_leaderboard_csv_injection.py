"""The leaderboard CSV export is safe to open in a spreadsheet: a team named like a formula is written as
text (prefixed with a quote), while the scores stay numbers (see app/csvfile.py for negative numbers)."""

from __future__ import annotations

import csv
import io

import pytest

from ._board import HIDDEN, SLUG

EVIL = '=HYPERLINK("http://evil.example","x")'
SE = 0.02


@pytest.fixture(autouse=True)
def fresh_caches():
    from leaderboard import cache

    cache.clear()
    yield
    cache.clear()


def test_a_team_named_like_a_formula_is_exported_as_text_and_scores_stay_numbers(client, board):
    board.entry(EVIL, {"arc_easy": (0.1, SE), "boolq": (0.4, SE), HIDDEN: (0.5, SE)})
    board.entry("@SUM(A1:A9)", {"arc_easy": (0.9, SE), "boolq": (0.9, SE), HIDDEN: (0.5, SE)})
    board.refresh()
    text = client.get(f"/api/v1/leaderboard?challenge={SLUG}&format=csv").get_data(as_text=True)
    rows = {row["team"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"'" + EVIL, "'@SUM(A1:A9)"}
    evil = rows["'" + EVIL]
    assert evil["submission"] == "'" + EVIL + " model"
    assert evil["arc_easy"] == "0.0" and evil["arc_easy_raw"] == "0.1" and evil["rank"] == "2"  # numbers as numbers
    assert float(evil["score"]) == pytest.approx(1 / 9, abs=1e-6) and evil["baseline"] == "false"
    assert "\n=" not in text and ",=" not in text and ",@" not in text
