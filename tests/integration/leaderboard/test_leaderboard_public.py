"""The public board over HTTP: filters and sorting, exports, hidden tasks, the freeze, caching and 304s."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import sign_in

from ._board import HIDDEN, SLUG

NOW = datetime.now(timezone.utc)
SE = 0.02
HIDDEN_VALUE = "0.6123"  # Team A's raw hidden-task value, searched for in every public body


@pytest.fixture(autouse=True)
def fresh_caches():
    from leaderboard import cache

    cache.clear()
    yield
    cache.clear()


def seed(board):
    board.entry(
        "Team A",
        {"arc_easy": (0.625, SE), "boolq": (0.75, SE), HIDDEN: (float(HIDDEN_VALUE), SE)},
        finished_at=NOW - timedelta(days=2),
    )
    board.entry(
        "Team B",
        {"arc_easy": (0.85, SE), "boolq": (0.9, SE), HIDDEN: (0.4, SE)},
        parameters=40_000_000_000,
        licence="review",
        cluster="leonardo",
        finished_at=NOW - timedelta(days=3),
    )
    board.entry("Reference", {"arc_easy": (0.55, SE), "boolq": (0.7, SE), HIDDEN: (0.55, SE)}, baseline=True)
    board.entry("Team D", {"arc_easy": (1.0, SE), "boolq": (1.0, SE)}, parameters=None, licence=None)
    board.refresh()


def bodies(client) -> dict[str, str]:
    """Every public representation of the board."""
    urls = {
        "html": f"/leaderboard?challenge={SLUG}",
        "json": f"/api/v1/leaderboard?challenge={SLUG}",
        "csv": f"/api/v1/leaderboard?challenge={SLUG}&format=csv",
        "sorted": f"/leaderboard?challenge={SLUG}&sort=score&order=desc",
    }
    out = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        out[name] = response.get_data(as_text=True)
    return out


def test_the_json_export_lists_the_public_rows_in_rank_order(client, board):
    seed(board)
    rows = client.get(f"/api/v1/leaderboard?challenge={SLUG}").get_json()["rows"]
    assert [(r["team"], r["rank"], round(r["score"], 4)) for r in rows] == [
        ("Team B", 1, 0.6),
        ("Team A", 2, round((0.5 + 0.5 + (0.6123 - 0.25) / 0.75) / 3, 4)),
        ("Reference", None, 0.4),
        ("Team D", 3, 1.0),
    ]
    assert rows[2]["baseline"] is True
    assert set(rows[0]["tasks"]) == {"arc_easy", "boolq"}


def test_filters_and_sorting_apply_to_the_page_and_the_exports_alike(client, board):
    seed(board)
    query = f"challenge={SLUG}&licence=pass&sort=team&order=desc"
    rows = client.get(f"/api/v1/leaderboard?{query}").get_json()["rows"]
    assert [r["team"] for r in rows] == ["Team A", "Reference"]
    lines = list(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/leaderboard?{query}&format=csv").get_data(as_text=True)))
    )
    assert [line["team"] for line in lines] == ["Team A", "Reference"]
    html = client.get(f"/leaderboard?{query}").get_data(as_text=True)
    assert "Team A" in html and "Team B" not in html
    big = client.get(f"/api/v1/leaderboard?challenge={SLUG}&size=30-100b").get_json()["rows"]
    assert [r["team"] for r in big] == ["Team B"]
    by_cluster = client.get(f"/api/v1/leaderboard?challenge={SLUG}&cluster=leonardo").get_json()["rows"]
    assert [r["team"] for r in by_cluster] == ["Team B"]
    by_task = client.get(f"/api/v1/leaderboard?challenge={SLUG}&sort=task.arc_easy").get_json()["rows"]
    assert [r["team"] for r in by_task] == ["Reference", "Team A", "Team B", "Team D"]


def test_pagination_and_bad_query_values(client, board):
    for i in range(30):
        board.entry(f"Team {i:02d}", {"arc_easy": (0.3 + i / 100, SE), "boolq": (0.6, SE), HIDDEN: (0.5, SE)})
    board.refresh()
    page2 = client.get(f"/leaderboard?challenge={SLUG}&per_page=25&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in page2 and "Team 04" in page2 and "Team 05" not in page2
    assert client.get(f"/leaderboard?challenge={SLUG}&sort=nonsense").status_code == 400
    problem = client.get(f"/api/v1/leaderboard?challenge={SLUG}&licence=maybe")
    assert problem.status_code == 422 and "licence" in problem.get_json()["errors"]


def test_hidden_tasks_never_appear_in_html_json_or_csv_before_the_end(client, board):
    seed(board)
    team_a = client.get(f"/api/v1/leaderboard?challenge={SLUG}").get_json()["rows"][1]["team_id"]
    pages = {**bodies(client), "entry": client.get(f"/leaderboard/{SLUG}/entries/{team_a}").get_data(as_text=True)}
    for name, body in pages.items():
        assert HIDDEN not in body, name
        assert HIDDEN_VALUE not in body, name
    assert "a hidden task" in client.get(f"/api/v1/leaderboard?challenge={SLUG}").get_data(as_text=True)


def test_hidden_tasks_appear_once_the_challenge_has_ended(client, board, db):
    from app.challenges.services import load_config_text
    from ._board import config_text

    seed(board)
    with db() as session:
        load_config_text(session, config_text(NOW, ended=True))
    board.refresh()
    for name, body in bodies(client).items():
        assert HIDDEN in body, name


def test_a_result_after_the_freeze_stays_off_the_public_board_but_its_team_sees_it(client, board, db, make_user):
    from app.accounts.models import Role
    from app.challenges.models import Challenge
    from app.teams.models import TeamMembership
    from leaderboard.services import freeze, results_changed

    seed(board)
    organiser = make_user("org@example.eu", Role.organiser)
    with db() as session:
        freeze(session, session.get(Challenge, board.challenge_id), NOW - timedelta(hours=1), organiser)
    team = board.team("Late Team")
    sub = board.submission(team, "late model", accepted_at=NOW - timedelta(days=1))
    board.evaluation(team, sub, {"arc_easy": (0.9917, SE), "boolq": (0.99, SE), HIDDEN: (0.9, SE)}, finished_at=NOW)
    with db() as session:
        results_changed(session, board.challenge_id)
    board.refresh()
    for name, body in bodies(client).items():
        assert "0.9917" not in body, name
    assert "frozen" in bodies(client)["html"]
    public_entry = client.get(f"/leaderboard/{SLUG}/entries/{team}").get_data(as_text=True)
    assert "0.9917" not in public_entry and "evaluation of late model pending" in public_entry
    member = make_user("late@example.eu")
    with db() as session:
        session.add(TeamMembership(team_id=team, user_id=member, challenge_id=board.challenge_id, is_owner=True))
    sign_in(client, "late@example.eu")
    assert "0.9917" in client.get(f"/leaderboard/{SLUG}/entries/{team}").get_data(as_text=True)
    assert "0.9917" not in client.get(f"/api/v1/leaderboard?challenge={SLUG}").get_data(as_text=True)


def test_the_team_sees_its_result_after_the_freeze_on_its_entry_page(client, board, db, make_user):
    from app.accounts.models import Role
    from app.challenges.models import Challenge
    from app.teams.models import TeamMembership
    from leaderboard.services import freeze

    team = board.team("Frozen Team")
    sub = board.submission(team, "model", accepted_at=NOW - timedelta(days=3))
    board.evaluation(
        team, sub, {"arc_easy": (0.5, SE), "boolq": (0.6, SE), HIDDEN: (0.5, SE)}, finished_at=NOW - timedelta(days=2)
    )
    organiser = make_user("org@example.eu", Role.organiser)
    with db() as session:
        freeze(session, session.get(Challenge, board.challenge_id), NOW - timedelta(days=1), organiser)
    board.evaluation(team, sub, {"arc_easy": (0.8123, SE), "boolq": (0.6, SE), HIDDEN: (0.7777, SE)}, finished_at=NOW)
    from leaderboard.services import results_changed

    with db() as session:
        results_changed(session, board.challenge_id)
    board.refresh()
    assert "0.8123" not in client.get(f"/leaderboard/{SLUG}/entries/{team}").get_data(as_text=True)
    member = make_user("frozen@example.eu")
    with db() as session:
        session.add(TeamMembership(team_id=team, user_id=member, challenge_id=board.challenge_id, is_owner=True))
    sign_in(client, "frozen@example.eu")
    page = client.get(f"/leaderboard/{SLUG}/entries/{team}")
    body = page.get_data(as_text=True)
    assert "0.8123" in body and "Your latest result" in body
    assert "0.7777" not in body and HIDDEN not in body  # the team never sees hidden tasks either
    assert page.headers["Cache-Control"] == "no-store"


def test_a_landing_result_changes_the_etag_and_repeat_visits_get_304(client, board, db):
    from leaderboard.services import results_changed

    seed(board)
    url = f"/leaderboard?challenge={SLUG}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"] and "Set-Cookie" not in first.headers
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(f"/api/v1/leaderboard?challenge={SLUG}", headers={"If-None-Match": etag}).status_code == 304
    board.entry("Newcomer", {"arc_easy": (0.7, SE), "boolq": (0.8, SE), HIDDEN: (0.6, SE)})
    with db() as session:
        results_changed(session, board.challenge_id)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304  # stale: served until recomputed
    board.refresh()
    second = client.get(url, headers={"If-None-Match": etag})
    assert second.status_code == 200 and second.headers["ETag"] != etag
    assert "Newcomer" in second.get_data(as_text=True)


def test_the_scheduler_step_recomputes_a_stale_snapshot(app, board, db, settings):
    from leaderboard.jobs import refresh_leaderboards
    from leaderboard.models import LeaderboardSnapshot
    from leaderboard.services import results_changed

    seed(board)
    with db() as session:
        refresh_leaderboards(session, settings)
    with db() as session:
        before = {s.audience: s.etag for s in session.query(LeaderboardSnapshot).all()}
        results_changed(session, board.challenge_id)
    board.entry("Newcomer", {"arc_easy": (0.7, SE), "boolq": (0.8, SE), HIDDEN: (0.6, SE)})
    with db() as session:
        refresh_leaderboards(session, settings)
    with db() as session:
        after = {s.audience: (s.etag, s.stale) for s in session.query(LeaderboardSnapshot).all()}
    assert set(before) == {"public", "organiser"}
    assert all(not stale and etag != before[audience] for audience, (etag, stale) in after.items())


def test_organisers_freeze_and_unfreeze_through_the_api(client, board, make_user, db):
    from app.accounts.models import Role
    from tests.helpers import bearer

    headers = bearer(client, make_user, db, "org@example.eu", Role.organiser)
    made = client.post(f"/api/v1/leaderboard/{SLUG}/freeze", json={"reason": "final week"}, headers=headers)
    assert made.status_code == 201 and made.get_json()["frozen"] is True
    assert client.get(f"/api/v1/leaderboard/{SLUG}/freeze", headers=headers).get_json()["reason"] == "final week"
    assert client.delete(f"/api/v1/leaderboard/{SLUG}/freeze", headers=headers).get_json() == {"frozen": False}
    entrant = bearer(client, make_user, db, "ent@example.eu")
    assert client.post(f"/api/v1/leaderboard/{SLUG}/freeze", json={}, headers=entrant).status_code == 403


def test_before_the_scheduler_computes_the_board_every_representation_says_it_is_being_prepared(client, board, db):
    from leaderboard.models import LeaderboardSnapshot
    from sqlmodel import select

    board.entry("Team A", {"arc_easy": (0.625, SE), "boolq": (0.75, SE), HIDDEN: (0.5, SE)})
    page = client.get(f"/leaderboard?challenge={SLUG}")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "The board is being prepared" in page.get_data(as_text=True)
    entry = client.get(f"/leaderboard/{SLUG}/entries/1")
    assert entry.status_code == 503 and "being prepared" in entry.get_data(as_text=True)
    api = client.get(f"/api/v1/leaderboard?challenge={SLUG}&format=csv")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.mimetype == "application/problem+json" and "being prepared" in api.get_json()["detail"]
    with db() as session:
        assert session.exec(select(LeaderboardSnapshot)).all() == []  # the requests computed nothing
    board.refresh()
    assert client.get(f"/leaderboard?challenge={SLUG}").status_code == 200


def test_a_first_click_on_a_score_column_lists_the_best_first_and_a_second_reverses_it(client, board):
    import html as markup
    import re

    seed(board)

    def header_links(url: str) -> dict[str, str]:
        page = client.get(url).get_data(as_text=True)
        return {
            label.split(" ")[0]: markup.unescape(href)
            for href, label in re.findall(r'<th scope="col"[^>]*><a href="([^"]+)">([^<]+)</a>', page)
        }

    first = header_links(f"/leaderboard?challenge={SLUG}")
    best = client.get(first["Benchmark"]).get_data(as_text=True).split('<table class="leaderboard">')[1]
    assert best.index("Team D") < best.index("Team B") < best.index("Team A")
    assert "order=desc" in first["arc_easy"] and "order" not in first["Team"]  # A to Z
    assert "order=desc" in first["Rank"]  # the board is ranked already: the other way round
    second = header_links(first["Benchmark"])
    assert "order" not in second["Benchmark"]  # ascending: the default order, left out of the link
