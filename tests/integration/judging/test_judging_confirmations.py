"""Locking and publishing judging cannot be undone: each asks for a confirmation that names the consequence,
and locking while score sheets are missing names each missing one (judge and entry) and asks again."""

from __future__ import annotations

import re

from app.accounts.models import Role
from tests.helpers import bearer, csrf_token, page_text, sign_in, submit

LOCK = {"confirm_lock": "y"}
PUBLISH = {"confirm_publish": "y"}


def organise(client, field) -> str:
    return f"/c/{field.slug}/judging/organise"


def test_locking_without_ticking_the_confirmation_changes_nothing(client, field, judging):
    sign_in(client, "org@example.eu")
    page = page_text(client.get(organise(client, field)))
    assert "no judge can submit or revise a score sheet" in page
    refused = submit(client, f"/c/{field.slug}/judging/lock", {}, page=organise(client, field))
    assert refused.status_code == 422 and "Tick the box" in page_text(refused)
    assert judging.state() == "open"


def test_locking_with_the_confirmation_and_every_sheet_in_locks(client, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a)
    sign_in(client, "org@example.eu")
    done = submit(client, f"/c/{field.slug}/judging/lock", LOCK, page=organise(client, field))
    assert done.status_code == 302 and judging.state() == "locked"


def test_locking_while_sheets_are_missing_names_each_one_and_asks_again(client, field, judging):
    judging.assign("j1", field.a)
    judging.assign("j2", field.a)
    judging.assign("j2", field.b)
    judging.sheet("j1", field.a)
    sign_in(client, "org@example.eu")
    first = submit(client, f"/c/{field.slug}/judging/lock", LOCK, page=organise(client, field))
    text = page_text(first)
    assert first.status_code == 409 and judging.state() == "open"
    missing = re.findall(r'data-missing-sheet="([^"]+)"', first.get_data(as_text=True))
    assert sorted(missing) == sorted([f"{field.users['j2']}:{field.a}", f"{field.users['j2']}:{field.b}"])
    assert "j2 has not scored Alpha" in text and "j2 has not scored Bravo" in text
    accepted = re.search(r'name="accept_missing" type="hidden" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    again = client.post(
        f"/c/{field.slug}/judging/lock",
        data={**LOCK, "accept_missing": accepted, "csrf_token": csrf_token(first.get_data(as_text=True))},
    )
    assert again.status_code == 302 and judging.state() == "locked"


def test_a_sheet_gone_missing_since_the_question_is_asked_about_again(client, field, judging):
    judging.assign("j2", field.a)
    sign_in(client, "org@example.eu")
    first = submit(client, f"/c/{field.slug}/judging/lock", LOCK, page=organise(client, field))
    accepted = re.search(r'name="accept_missing" type="hidden" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    judging.assign("j3", field.b)  # a new assignment meanwhile: its sheet is missing too
    again = client.post(
        f"/c/{field.slug}/judging/lock",
        data={**LOCK, "accept_missing": accepted, "csrf_token": csrf_token(first.get_data(as_text=True))},
    )
    assert again.status_code == 409 and "j3 has not scored Bravo" in page_text(again)
    assert judging.state() == "open"


def test_publishing_asks_for_a_confirmation_naming_the_consequence(client, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a)
    judging.lock()
    sign_in(client, "org@example.eu")
    assert "judges' scores become public" in page_text(client.get(organise(client, field)))
    refused = submit(client, f"/c/{field.slug}/judging/publish", {}, page=organise(client, field))
    assert refused.status_code == 422 and judging.state() == "locked"
    done = submit(client, f"/c/{field.slug}/judging/publish", PUBLISH, page=organise(client, field))
    assert done.status_code == 302 and judging.state() == "published"


def test_the_api_lock_lists_missing_sheets_and_takes_them_when_named(client, field, judging, make_user, db):
    judging.assign("j2", field.a)
    org = bearer(client, make_user, db, "api-org@example.eu", Role.organiser)
    refused = client.post(f"/api/v1/judging/{field.slug}/lock", headers=org)
    body = refused.get_json()
    assert refused.status_code == 409 and body["missing_sheets"] == [
        {"judge_id": field.users["j2"], "judge": "j2", "team_id": field.a, "team": "Alpha"}
    ]
    done = client.post(
        f"/api/v1/judging/{field.slug}/lock",
        headers=org,
        json={"accept_missing": [{"judge_id": field.users["j2"], "team_id": field.a}]},
    )
    assert done.status_code == 200 and done.get_json()["state"] == "locked"
