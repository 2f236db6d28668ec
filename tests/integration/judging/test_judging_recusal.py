"""Judges and recusal: a recused judge is told so (403, nothing of the entry); the conflict form offers only
the teams the judge is not recused from; team drop-downs start empty; judges see hidden tasks, marked."""

from __future__ import annotations

import re

from app.accounts.models import Role
from tests.factories import SHEET
from tests.helpers import bearer, page_text, sign_in, submit

RECUSED = "You are recused from this entry"


def options(html: str, name: str) -> list[tuple[str, str]]:
    """(value, text) of each option of the select named `name`."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_a_recused_judge_is_told_so_and_sees_nothing_of_the_entry(client, field, judging):
    judging.assign("j1", field.a)
    judging.conflict("j1", field.a)
    sign_in(client, "j1@example.eu")
    url = f"/c/{field.slug}/scorecards/{field.a}"
    page = client.get(url)
    text = page_text(page)
    assert page.status_code == 403 and RECUSED in text
    assert "Alpha v1" not in text and "0.5500" not in text and "arc" not in text
    posted = submit(client, url, {f"c_{k}": str(v) for k, v in SHEET.items()}, page=f"/c/{field.slug}/judging")
    assert posted.status_code == 403 and RECUSED in page_text(posted)


def test_the_api_tells_a_recused_judge_so_too(client, field, judging, make_user, db):
    headers = bearer(client, make_user, db, "api-judge@example.eu", Role.judge)
    client.post(
        f"/api/v1/judging/{field.slug}/conflicts", json={"team_id": field.a, "reason": "shareholder"}, headers=headers
    )
    refused = client.post(
        f"/api/v1/judging/{field.slug}/entries/{field.a}/sheet", json={"scores": SHEET}, headers=headers
    )
    assert refused.status_code == 403 and RECUSED in refused.get_json()["detail"]


def test_a_judge_not_assigned_to_an_entry_still_gets_a_plain_404(client, field):
    sign_in(client, "j1@example.eu")
    response = client.get(f"/c/{field.slug}/scorecards/{field.a}")
    assert response.status_code == 404 and RECUSED not in page_text(response)


def test_the_conflict_form_offers_only_teams_the_judge_is_not_recused_from(client, field, judging):
    judging.conflict("j1", field.a)
    sign_in(client, "j1@example.eu")
    choices = options(client.get(f"/c/{field.slug}/judging").get_data(as_text=True), "team_id")
    assert [text for _, text in choices] == ["Choose a team", "Bravo"]
    again = submit(
        client,
        f"/c/{field.slug}/judging/conflicts",
        {"team_id": field.a, "reason": "twice over"},
        page=f"/c/{field.slug}/judging",
    )
    assert again.status_code == 422


def test_the_conflict_drop_down_starts_empty_and_a_missing_choice_is_refused(client, field):
    sign_in(client, "j1@example.eu")
    html = client.get(f"/c/{field.slug}/judging").get_data(as_text=True)
    first = re.search(r'<select[^>]*name="team_id"[^>]*>\s*<option([^>]*)>', html).group(1)
    assert 'value=""' in first and "selected" in first
    refused = submit(
        client,
        f"/c/{field.slug}/judging/conflicts",
        {"team_id": "", "reason": "I advise them."},
        page=f"/c/{field.slug}/judging",
    )
    assert refused.status_code == 422 and "Choose a team." in page_text(refused)


def test_judges_see_hidden_task_scores_marked_confidential_and_the_team_does_not(client, field, judging):
    judging.assign("j1", field.a)
    sign_in(client, "j1@example.eu")
    judge_view = client.get(f"/c/{field.slug}/scorecards/{field.a}").get_data(as_text=True)
    assert 'data-task="secret"' in judge_view and "data-hidden-task" in judge_view
    assert "confidential" in judge_view
    sign_in(client, "alice@example.eu")
    assert 'data-task="secret"' not in client.get(f"/c/{field.slug}/scorecards/{field.a}").get_data(as_text=True)
