"""Confirming and publishing the award cannot be undone: each asks for a confirmation that names the consequence.
The award is published only after the judges' scores (the winners page and the board then agree). The forfeit
drop-down starts empty."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.factories import PRIZE_SLUG as SLUG
from tests.helpers import page_text, sign_in, submit

PAGE = f"/organiser/c/{SLUG}/prizes"
WINNERS = f"/c/{SLUG}/winners"


def fingerprint(client) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', client.get(PAGE).get_data(as_text=True)).group(1)


def kinds(db) -> list[str]:
    from app.prizes.models import AwardRecord

    with db() as session:
        return [r.kind for r in session.exec(select(AwardRecord).order_by(AwardRecord.sequence)).all()]


def test_the_confirmation_names_the_winners_and_what_confirming_does(client, world, four_entries):
    world.settle()
    sign_in(client, "olga@example.eu")
    text = page_text(client.get(PAGE))
    section = text.split("Confirm the award")[0]
    assert "cannot be edited or deleted" in section and "release obligation" in section
    assert "Aurora: EUR 500,000.00" in section and "Baltic: EUR 500,000.00" in section


def test_confirming_without_ticking_the_confirmation_records_nothing(client, db, world, four_entries):
    world.settle()
    sign_in(client, "olga@example.eu")
    refused = submit(client, f"{PAGE}/confirm", {"fingerprint": fingerprint(client)}, page=PAGE)
    assert refused.status_code == 422 and "Tick the box" in page_text(refused)
    assert kinds(db) == []
    done = submit(client, f"{PAGE}/confirm", {"fingerprint": fingerprint(client), "confirm_award": "y"}, page=PAGE)
    assert done.status_code == 303 and kinds(db) == ["award"]


def test_the_award_is_published_only_after_the_judges_scores(client, db, world, four_entries):
    world.settle()  # judging locked, not published
    sign_in(client, "olga@example.eu")
    submit(client, f"{PAGE}/confirm", {"fingerprint": fingerprint(client), "confirm_award": "y"}, page=PAGE)
    page = page_text(client.get(PAGE))
    assert "Publish the judges' scores first" in page
    refused = submit(client, f"{PAGE}/publish", {"confirm_publish": "y"}, page=PAGE, follow_redirects=True)
    assert "Publish the judges' scores first" in page_text(refused) and kinds(db) == ["award"]
    assert client.application.test_client().get(WINNERS).status_code == 404
    world.publish_judging()
    assert "the winners page becomes public" in page_text(client.get(PAGE))
    unticked = submit(client, f"{PAGE}/publish", {}, page=PAGE)
    assert unticked.status_code == 422 and kinds(db) == ["award"]
    assert submit(client, f"{PAGE}/publish", {"confirm_publish": "y"}, page=PAGE).status_code == 303
    assert kinds(db) == ["award", "publish"]
    assert client.application.test_client().get(WINNERS).status_code == 200


def test_a_rerun_asks_for_its_confirmation_too(client, db, world, four_entries):
    world.settle()
    sign_in(client, "olga@example.eu")
    submit(client, f"{PAGE}/confirm", {"fingerprint": fingerprint(client), "confirm_award": "y"}, page=PAGE)
    reason = "Disqualified: the jury found the training data breached the challenge rules."
    submit(client, f"{PAGE}/forfeit", {"team_id": four_entries["Aurora"], "reason": reason}, page=PAGE)
    assert "passes the prize on" in page_text(client.get(PAGE)).split("Confirm the re-run")[0]
    refused = submit(client, f"{PAGE}/rerun", {"fingerprint": fingerprint(client)}, page=PAGE)
    assert refused.status_code == 422 and kinds(db) == ["award", "forfeit"]
    done = submit(client, f"{PAGE}/rerun", {"fingerprint": fingerprint(client), "confirm_rerun": "y"}, page=PAGE)
    assert done.status_code == 303 and kinds(db) == ["award", "forfeit", "rerun"]


def test_the_forfeit_drop_down_starts_empty_and_a_missing_choice_is_refused(client, db, world, four_entries):
    world.settle()
    sign_in(client, "olga@example.eu")
    html = client.get(PAGE).get_data(as_text=True)
    first = re.search(r'<select[^>]*name="team_id"[^>]*>\s*<option([^>]*)>([^<]*)<', html)
    assert 'value=""' in first.group(1) and "selected" in first.group(1) and first.group(2) == "Choose a team"
    reason = "Disqualified: the jury found the training data breached the challenge rules."
    refused = submit(client, f"{PAGE}/forfeit", {"team_id": "", "reason": reason}, page=PAGE)
    assert refused.status_code == 422 and "Choose a team." in page_text(refused)
    assert kinds(db) == []
