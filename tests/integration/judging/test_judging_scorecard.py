"""The scorecard: hand-computed normalised scores and per-task ranks, the tie policy, statistical ties,
provenance, and who may see what."""

from __future__ import annotations

import re

import pytest

from tests.helpers import sign_in


def _row(html: str, task: str) -> str:
    match = re.search(rf'<tr data-task="{task}">(.*?)</tr>', html, re.S)
    assert match, f"no row for task {task}"
    return match.group(1)


def _cell(row: str, name: str) -> str:
    match = re.search(rf"<td[^>]*{name}>(.*?)</td>", row, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _page(client, field, who: str, team: int):
    sign_in(client, f"{who}@example.eu")
    return client.get(f"/c/{field.slug}/scorecards/{team}")


def test_scorecard_normalises_each_task_against_its_chance_baseline(client, field):
    html = _page(client, field, "org", field.a).get_data(as_text=True)
    assert _cell(_row(html, "arc"), "data-normalised").startswith("0.4000 ± 0.0133")
    assert _cell(_row(html, "boolq"), "data-normalised").startswith("0.4000 ± 0.0400")
    assert _cell(_row(html, "arc"), "data-raw") == "0.5500"


def test_scorecard_ranks_each_task_among_entries_not_baselines(client, field):
    html_a = _page(client, field, "org", field.a).get_data(as_text=True)
    html_b = client.get(f"/c/{field.slug}/scorecards/{field.b}").get_data(as_text=True)
    assert _cell(_row(html_a, "arc"), "data-rank").startswith("1 of 2")
    assert _cell(_row(html_b, "arc"), "data-rank").startswith("2 of 2")
    assert _cell(_row(html_a, "boolq"), "data-rank").startswith("2 of 2")
    assert _cell(_row(html_b, "boolq"), "data-rank").startswith("1 of 2")


def test_equal_scores_on_a_task_share_the_rank(client, field):
    html_a = _page(client, field, "org", field.a).get_data(as_text=True)
    html_b = client.get(f"/c/{field.slug}/scorecards/{field.b}").get_data(as_text=True)
    assert _cell(_row(html_a, "secret"), "data-rank") == "1 of 2"
    assert _cell(_row(html_b, "secret"), "data-rank") == "1 of 2"


def test_scores_within_their_combined_error_are_marked_statistically_tied(client, field):
    html = _page(client, field, "org", field.a).get_data(as_text=True)
    assert "data-tied" in _row(html, "boolq") and "Statistically tied with Bravo" in _row(html, "boolq")
    assert "data-tied" not in _row(html, "arc")
    assert "data-tied" not in _row(html, "secret")  # no stderr: never called a statistical tie


def test_scorecard_shows_baselines_provenance_checkpoint_and_chart(client, field):
    html = _page(client, field, "org", field.a).get_data(as_text=True)
    assert "Baseline: Baseline" in html and "0.4000" in _row(html, "arc") and "(0.200)" in _row(html, "arc")
    for fact in ("0.4.8", "leonardo", "4242", "3.50", "feedc0defeedc0de", "hash-boolq"):
        assert fact in html
    assert "1,234,567,890" in html and "ab" * 32 in html and "bfloat16" in html
    assert 'data-licence-verdict="pass"' in html or "pass" in html
    assert '<svg role="img"' in html and "The chart's data" in html
    assert "<script>" not in html


def _record_lock(db, team_id: int, lock_sha256) -> None:
    from sqlmodel import select

    from evaluation.models import Evaluation

    with db() as session:
        ev = session.exec(select(Evaluation).where(Evaluation.team_id == team_id)).one()
        ev.provenance = {**ev.provenance, "lock_sha256": lock_sha256}


def _lock_fact(html: str) -> str:
    match = re.search(r"<dd data-lock>(.*?)</dd>", html, re.S)
    assert match, "the provenance names no environment"
    return match.group(1)


def test_the_provenance_names_the_lock_of_the_environment_that_evaluated(client, db, field):
    _record_lock(db, field.a, "5eed" * 16)
    fact = _lock_fact(_page(client, field, "org", field.a).get_data(as_text=True))
    assert f'title="{"5eed" * 16}"' in fact and ">5eed5eed5eed5eed</code>" in fact


def test_an_evaluation_without_a_known_environment_says_so(client, db, field):
    _record_lock(db, field.a, None)
    assert _lock_fact(_page(client, field, "org", field.a).get_data(as_text=True)) == "not recorded"


def test_an_entrant_sees_their_own_scorecard_without_hidden_tasks_or_judges_notes(client, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a, notes="TOP-SECRET-NOTE")
    response = _page(client, field, "alice", field.a)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-viewer="entrant"' in html
    assert 'data-task="arc"' in html and 'data-task="secret"' not in html
    # Random CSRF tokens may contain "j1" by chance: look for the judge's name outside them.
    words = re.sub(r'name="csrf_token"[^>]*>|value="[A-Za-z0-9._-]{40,}"', "", html)
    assert "TOP-SECRET-NOTE" not in html and not re.search(r"\bj1\b", words) and "data-other-judges" not in html
    assert "<form" not in html.split('id="judges-h"')[1]


@pytest.mark.parametrize("who", ["bob", "j1"])
def test_others_get_404_on_a_scorecard_they_may_not_see(client, field, who):
    assert _page(client, field, who, field.a).status_code == 404


def test_baselines_and_unknown_teams_have_no_scorecard(client, field):
    sign_in(client, "org@example.eu")
    assert client.get(f"/c/{field.slug}/scorecards/{field.baseline}").status_code == 404
    assert client.get(f"/c/{field.slug}/scorecards/999999").status_code == 404


def test_an_entrant_sees_the_judges_aggregate_only_once_published(client, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a, notes="private words")
    assert "data-judges-score" not in _page(client, field, "alice", field.a).get_data(as_text=True)
    judging.lock()
    judging.publish()
    html = client.get(f"/c/{field.slug}/scorecards/{field.a}").get_data(as_text=True)
    assert "data-judges-score" in html and "private words" not in html
