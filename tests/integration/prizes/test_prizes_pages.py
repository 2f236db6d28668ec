"""The award pages and API: what organisers see and do, the public winners page, and who may use what."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.factories import PRIZE_SLUG as SLUG, prize_world
from tests.helpers import bearer, sign_in, submit

PAGE = f"/organiser/c/{SLUG}/prizes"
WINNERS = f"/c/{SLUG}/winners"


def _fingerprint(html: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', html).group(1)


def _confirm_on_page(client) -> None:
    html = client.get(PAGE).get_data(as_text=True)
    response = submit(client, f"{PAGE}/confirm", {"fingerprint": _fingerprint(html), "confirm_award": "y"}, page=PAGE)
    assert response.status_code == 303


def test_the_organiser_page_says_exactly_what_is_missing_before_the_ranking_is_final(client, world, four_entries):
    sign_in(client, "olga@example.eu")
    response = client.get(PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Judging is still open" in html and "The leaderboard is not frozen" in html
    assert "Confirm the award" not in html


def test_the_organiser_previews_confirms_and_sees_the_history_with_a_verified_chain(client, world, four_entries):
    world.settle()
    sign_in(client, "olga@example.eu")
    html = client.get(PAGE).get_data(as_text=True)
    assert 'data-team="Aurora" data-status="in"' in html and "EUR 500,000.00" in html
    assert "baselines never win" in html and 'data-team="Iberia" data-status="out"' in html
    _confirm_on_page(client)
    html = client.get(PAGE).get_data(as_text=True)
    assert 'data-chain="ok"' in html and 'data-kind="award"' in html
    assert 'data-obligation="pending"' in html  # each winner's release obligation, from the licence feature
    assert "Confirm the award" not in html


def test_an_edited_record_shows_as_a_broken_chain_on_the_organiser_page(client, db, world, four_entries):
    from sqlalchemy import text

    world.settle()
    sign_in(client, "olga@example.eu")
    _confirm_on_page(client)
    with db() as session:
        session.exec(text("UPDATE award_record SET kind = 'rerun'"))
    html = client.get(PAGE).get_data(as_text=True)
    assert 'data-chain="broken"' in html and "#1 award" in html


def test_the_winners_page_is_hidden_from_the_public_until_the_award_is_published(client, world, four_entries):
    world.settle()
    assert client.get(WINNERS).status_code == 404
    assert "The winners" not in client.get(f"/c/{SLUG}").get_data(as_text=True)
    sign_in(client, "olga@example.eu")
    draft = client.get(WINNERS).get_data(as_text=True)
    assert "Not published yet" in draft and "EUR 500,000.00" in draft  # organisers see a preview
    _confirm_on_page(client)
    world.publish_judging()  # the award is published only after the judges' scores
    assert submit(client, f"{PAGE}/publish", {"confirm_publish": "y"}, page=PAGE).status_code == 303
    anonymous = client.application.test_client()
    response = anonymous.get(WINNERS)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not published yet" not in html
    assert "The winners" in anonymous.get(f"/c/{SLUG}").get_data(as_text=True)  # linked once published
    assert html.count("EUR 500,000.00") == 2 and ">500<" in html and ">300<" in html and "pending" in html
    award = anonymous.get(f"/api/v1/prizes/{SLUG}/award").get_json()
    assert [(w["team"], w["amount_cents"], w["gpu_hours"]) for w in award["winners"]] == [
        ("Aurora", 50_000_000, {"lumi": 500, "leonardo": 300}),
        ("Baltic", 50_000_000, {"lumi": 500, "leonardo": 300}),
    ]


def test_a_forfeit_and_rerun_on_the_page_pass_the_prize_on_and_the_history_shows_both(client, world, four_entries):
    world.settle()
    sign_in(client, "olga@example.eu")
    _confirm_on_page(client)
    short = submit(client, f"{PAGE}/forfeit", {"team_id": four_entries["Aurora"], "reason": "too short"}, page=PAGE)
    assert short.status_code == 422
    reason = "Disqualified: the jury found the training data breached the challenge rules."
    assert (
        submit(client, f"{PAGE}/forfeit", {"team_id": four_entries["Aurora"], "reason": reason}, page=PAGE).status_code
        == 303
    )
    html = client.get(PAGE).get_data(as_text=True)
    assert "Re-run after a forfeit" in html and "Aurora forfeits" in html
    response = submit(client, f"{PAGE}/rerun", {"fingerprint": _fingerprint(html), "confirm_rerun": "y"}, page=PAGE)
    assert response.status_code == 303
    html = client.get(PAGE).get_data(as_text=True)
    assert [kind for kind in re.findall(r'data-kind="(\w+)"', html)] == ["award", "forfeit", "rerun"]
    assert "Award in force: record #3 (rerun)" in html and 'data-chain="ok"' in html
    assert 'data-team="Iberia"' in html.split('id="award"')[1].split("</table>")[0]


def test_the_tie_break_form_names_the_tied_entries_and_records_the_decision(client, db, people):
    from app.audit.models import AuditEvent

    world = prize_world(db, people, entry_id_tie_break=False)
    world.entry("Aurora", 0.85)
    left, right = world.entry("Baltic", 0.70), world.entry("Celtic", 0.70)
    world.settle()
    sign_in(client, "olga@example.eu")
    html = client.get(PAGE).get_data(as_text=True)
    assert "tied at rank 2" in html and 'data-team="Baltic" data-status="tied"' in html
    assert 'data-team="Celtic" data-status="tied"' in html and "Confirm the award" not in html
    data = {"place_1": right, "place_2": left, "justification": "Celtic submitted first, per the jury minutes."}
    assert submit(client, f"{PAGE}/tie-break", data, page=PAGE).status_code == 303
    html = client.get(PAGE).get_data(as_text=True)
    assert 'data-team="Celtic" data-status="in"' in html and 'data-team="Baltic" data-status="out"' in html
    with db() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "prize.tie_break")).one()


@pytest.mark.parametrize("email,role", [("aino@example.eu", "entrant"), ("jonas@example.eu", "judge")])
def test_entrants_and_judges_cannot_use_the_organiser_award_pages(client, world, four_entries, email, role):
    world.settle()
    sign_in(client, email)
    assert client.get(PAGE).status_code == 403
    for action in ("confirm", "rerun", "publish", "forfeit", "tie-break"):
        assert client.post(f"{PAGE}/{action}", data={}).status_code in (400, 403)
    assert client.get(WINNERS).status_code == 404


def test_the_api_previews_and_confirms_for_organisers_only(client, make_user, db, world, four_entries):
    from app.accounts.models import Role

    organiser = bearer(client, make_user, db, "api-olga@example.eu", Role.organiser)
    entrant = bearer(client, make_user, db, "api-aino@example.eu", Role.entrant)
    missing = client.post(f"/api/v1/prizes/{SLUG}/preview", headers=organiser)
    assert missing.status_code == 409 and len(missing.get_json()["errors"]["preconditions"]) == 2
    world.settle()
    assert client.post(f"/api/v1/prizes/{SLUG}/preview", headers=entrant).status_code == 403
    preview = client.post(f"/api/v1/prizes/{SLUG}/preview", headers=organiser).get_json()
    assert [r["team"] for r in preview["rows"] if r["status"] == "in"] == ["Aurora", "Baltic"]
    bad = client.post(f"/api/v1/prizes/{SLUG}/confirm", headers=organiser, json={"fingerprint": "x"})
    assert bad.status_code == 422
    assert client.get(f"/api/v1/prizes/{SLUG}/award").status_code == 404
    done = client.post(
        f"/api/v1/prizes/{SLUG}/confirm", headers=organiser, json={"fingerprint": preview["fingerprint"]}
    )
    assert done.status_code == 201 and done.get_json()["sequence"] == 1
    again = client.post(
        f"/api/v1/prizes/{SLUG}/confirm", headers=organiser, json={"fingerprint": preview["fingerprint"]}
    )
    assert again.status_code == 409
