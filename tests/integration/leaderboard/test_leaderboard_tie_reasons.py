"""Statistical ties are stored compactly and worded when served: the served reasons are exactly those of the
pure ranking (`scoring.rank_entries`, which words every tie itself), hidden task names scrubbed as before."""

from __future__ import annotations

import html
import random
import re
from datetime import datetime, timedelta, timezone

import pytest

from ._board import HIDDEN, SLUG

NOW = datetime.now(timezone.utc)


@pytest.fixture(autouse=True)
def fresh_caches():
    from leaderboard import cache

    cache.clear()
    yield
    cache.clear()


def seed_close_board(board, teams: int = 40) -> None:
    """Teams within a few standard errors of each other (each tied with many), one without the hidden task,
    one without any result yet, a baseline, and a team whose name holds the hidden task's name."""
    rng = random.Random(7)
    names = [f"Team {i:02d}" for i in range(teams - 1)] + [f"The {HIDDEN} fans"]
    for i, name in enumerate(names):
        skill = 0.55 + rng.random() * 0.08
        results = {
            "arc_easy": (skill, rng.uniform(0.01, 0.04)),
            "boolq": (skill + 0.1, rng.uniform(0.01, 0.04)),
            HIDDEN: (skill - 0.05, rng.uniform(0.01, 0.04)),
        }
        if i == 3:
            del results[HIDDEN]
        board.entry(name, results, baseline=i == 5, finished_at=NOW - timedelta(hours=i))
    board.submission(board.team("Team pending"), "pending")
    board.refresh()


def pure_reasons(db, challenge_id: int, hidden: tuple[str, ...]) -> dict[str, list[str]]:
    """team -> its reasons as the pure ranking words them (every tie sentence made by `rank_entries`), the
    hidden names scrubbed as the projection scrubs them: the output before ties were stored compactly."""
    from app.challenges.models import Challenge
    from evaluation.counted import scoring_of
    from leaderboard.rows import _reasons
    from leaderboard.standings import board_entries, suite_of
    from scoring import rank_entries
    from scoring.fast import fast_scores

    with db() as session:
        challenge = session.get(Challenge, challenge_id)
        entries, suite, config = board_entries(session, challenge, None), suite_of(challenge), scoring_of(challenge)
    by_team = {entry["team"]: entry for entry in entries}
    ranked = rank_entries(
        [fast_scores(entry, suite, config.weights, None)[0] for entry in entries],
        config.ranking,
        "benchmark_score",
        max_listed_ties=10,
    )
    out = {}
    for place in ranked:
        reasons = _reasons(by_team[place.entry_id], place.reasons)
        for name in sorted(hidden, key=len, reverse=True):
            reasons = tuple(reason.replace(name, "a hidden task") for reason in reasons)
        out[place.entry_id] = list(reasons)
    return out


def test_served_reasons_are_exactly_the_pure_rankings_with_hidden_names_scrubbed(client, board, db):
    seed_close_board(board)
    expected = pure_reasons(db, board.challenge_id, (HIDDEN,))
    assert (
        sum(reason.startswith("within 1 standard error") for reasons in expected.values() for reason in reasons) > 200
    )
    assert any(reason.startswith("also within") for reasons in expected.values() for reason in reasons)
    assert any("The a hidden task fans" in reason for reasons in expected.values() for reason in reasons)
    rows = client.get(f"/api/v1/leaderboard?challenge={SLUG}").get_json()["rows"]
    assert {row["team"].replace(HIDDEN, "a hidden task"): row["reasons"] for row in rows} == {
        team.replace(HIDDEN, "a hidden task"): reasons for team, reasons in expected.items()
    }
    paged = client.get(f"/api/v1/leaderboard?challenge={SLUG}&page=2&per_page=25").get_json()["rows"]
    assert [row["reasons"] for row in paged] == [row["reasons"] for row in rows[25:50]]
    for row in rows[:12] + rows[-3:]:
        page = client.get(f"/leaderboard/{SLUG}/entries/{row['team_id']}").get_data(as_text=True)
        why = page[page.index('id="h-why"') : page.index('id="h-card"')]
        shown = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", why)]
        assert shown == (row["reasons"] or ["Not scored yet."])


def test_the_stored_public_snapshot_holds_no_tie_sentence_and_no_hidden_name(client, board, db):
    from sqlalchemy import select

    from leaderboard.models import LeaderboardSnapshot

    seed_close_board(board)
    assert client.get(f"/api/v1/leaderboard?challenge={SLUG}").status_code == 200
    with db() as session:
        stored = session.execute(
            select(LeaderboardSnapshot).where(LeaderboardSnapshot.audience == "public")
        ).scalar_one()
        rows = stored.rows
    assert not any(reason.startswith("within 1 standard error") for row in rows for reason in row["reasons"])
    assert HIDDEN not in repr([(row["reasons"], row.get("tie_reasons"), row["tasks"]) for row in rows])
    assert [row["team"] for row in rows if "tie_reasons" in row]  # the teams tied with the oddly named team


def test_the_standing_rows_keep_every_tie_sentence(db, board):
    from app.challenges.models import Challenge
    from leaderboard.standings import standings

    seed_close_board(board)
    expected = pure_reasons(db, board.challenge_id, ())
    with db() as session:
        rows = standings(session, session.get(Challenge, board.challenge_id)).rows
    assert {row.team: list(row.reasons) for row in rows} == expected
