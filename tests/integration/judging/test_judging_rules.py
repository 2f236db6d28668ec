"""The judges' rules: recusal, the blind rule, locking, sheet validation, and the judges' scores."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.api.problems import status_of
from tests.factories import SHEET
from tests.helpers import bearer, sign_in, submit


def _form(scores: dict) -> dict:
    return {f"c_{key}": str(value) for key, value in scores.items()}


def test_declaring_a_conflict_recuses_the_judge_from_that_team(client, field, judging):
    judging.assign("j1", field.a)
    sign_in(client, "j1@example.eu")
    response = submit(
        client,
        f"/c/{field.slug}/judging/conflicts",
        {"team_id": field.a, "reason": "I advise A."},
        page=f"/c/{field.slug}/judging",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert f'data-team="{field.a}" data-status="recused"' in html
    assert client.get(f"/c/{field.slug}/scorecards/{field.a}").status_code == 403  # "you are recused"
    with pytest.raises(Exception) as refused:
        judging.assign("j1", field.a)
    assert status_of(refused.value) == 409


def test_a_recused_judges_earlier_sheet_no_longer_counts(field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a)
    assert field.a in judging.scores(published_only=False)
    judging.conflict("j1", field.a)
    assert field.a not in judging.scores(published_only=False)


def test_a_judge_sees_other_judges_scores_only_after_submitting(client, field, judging):
    judging.assign("j1", field.a)
    judging.assign("j2", field.a)
    judging.sheet("j2", field.a, {**SHEET, "openness": 3}, notes="j2 private thoughts")
    sign_in(client, "j1@example.eu")
    before = client.get(f"/c/{field.slug}/scorecards/{field.a}").get_data(as_text=True)
    assert 'data-other-judges="hidden"' in before and "other-sheet" not in before
    assert "data-judges-score" not in before
    url = f"/c/{field.slug}/scorecards/{field.a}"
    after = submit(client, url, _form(SHEET), follow_redirects=True).get_data(as_text=True)
    assert 'data-other-judges="shown"' in after and "other-sheet" in after and ">j2<" in after
    assert "j2 private thoughts" not in after  # another judge's private notes stay private


def test_organisers_see_every_sheet_with_its_notes(client, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a, notes="for the meeting")
    sign_in(client, "org@example.eu")
    html = client.get(f"/c/{field.slug}/scorecards/{field.a}").get_data(as_text=True)
    assert "for the meeting" in html and "data-judges-score" in html


def test_an_invalid_sheet_is_refused_with_an_error_per_criterion(client, field, judging, make_user, db):
    judging.assign("j1", field.a)
    sign_in(client, "j1@example.eu")
    url = f"/c/{field.slug}/scorecards/{field.a}"
    response = submit(client, url, {**_form(SHEET), "c_openness": "11", "c_responsible_ai": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "outside the scale 0-10" in html and "missing score" in html


def test_the_api_answers_422_with_field_errors_for_a_bad_sheet(client, field, judging, make_user, db):
    headers = bearer(client, make_user, db, "api-judge@example.eu", Role.judge)
    from app.accounts.models import User
    from sqlmodel import select

    with db() as session:
        judge_id = session.exec(select(User.id).where(User.email == "api-judge@example.eu")).one()
    org = bearer(client, make_user, db, "api-org@example.eu", Role.organiser)
    assert (
        client.post(
            f"/api/v1/judging/{field.slug}/assignments", json={"judge_id": judge_id, "team_id": field.a}, headers=org
        ).status_code
        == 201
    )
    response = client.post(
        f"/api/v1/judging/{field.slug}/entries/{field.a}/sheet",
        json={"scores": {**SHEET, "openness": "high", "bogus": 3}},
        headers=headers,
    )
    body = response.get_json()
    assert response.status_code == 422 and set(body["errors"]) == {"openness", "bogus"}
    ok = client.post(f"/api/v1/judging/{field.slug}/entries/{field.a}/sheet", json={"scores": SHEET}, headers=headers)
    assert ok.status_code == 201
    mine = client.get(f"/api/v1/judging/{field.slug}/assignments", headers=headers).get_json()
    assert [(e["team_id"], e["status"]) for e in mine["entries"]] == [(field.a, "submitted")]
    unassigned = client.post(
        f"/api/v1/judging/{field.slug}/entries/{field.b}/sheet", json={"scores": SHEET}, headers=headers
    )
    assert unassigned.status_code == 404


def test_after_the_lock_nothing_changes(client, field, judging, make_user, db):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a)
    judging.lock()
    sign_in(client, "j1@example.eu")
    url = f"/c/{field.slug}/scorecards/{field.a}"
    html = client.get(url).get_data(as_text=True)
    assert "scores are locked" in html and "Submit my" not in html and "Save my revised" not in html
    assert submit(client, url, _form({**SHEET, "openness": 1}), page=f"/c/{field.slug}/judging").status_code == 409
    org = bearer(client, make_user, db, "api-org@example.eu", Role.organiser)
    api = f"/api/v1/judging/{field.slug}"
    assert (
        client.post(
            api + "/assignments", json={"judge_id": field.users["j2"], "team_id": field.a}, headers=org
        ).status_code
        == 409
    )
    assert client.post(api + "/lock", headers=org).status_code == 409
    assert judging.scores() == {}  # locked but not published: nothing public yet
    assert client.post(api + "/publish", headers=org).get_json()["state"] == "published"
    assert judging.scores()[field.a].n_judges == 1


def test_judges_scores_are_the_mean_of_weighted_sheets(field, judging):
    for judge in ("j1", "j2"):
        judging.assign(judge, field.a)
    judging.sheet("j1", field.a, {key: 10 for key in SHEET})
    judging.sheet("j2", field.a, {key: 5 for key in SHEET})
    score = judging.scores(published_only=False)[field.a]
    assert score.value == pytest.approx(0.75) and score.n_judges == 2
    assert score.stderr == pytest.approx(0.25)  # stdev(1.0, 0.5) / sqrt(2) = 0.35355 / 1.41421
    assert judging.state() == "open" and judging.scores() == {}


def test_an_entrant_cannot_reach_judging_pages_or_the_judges_api(client, field, make_user, db):
    sign_in(client, "alice@example.eu")
    assert client.get(f"/c/{field.slug}/judging").status_code == 403
    assert client.get(f"/c/{field.slug}/judging/organise").status_code == 403
    headers = bearer(client, make_user, db, "carol@example.eu")
    assert client.get(f"/api/v1/judging/{field.slug}/assignments", headers=headers).status_code == 403
