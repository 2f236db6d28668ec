"""A final score shown without ± says why, everywhere it is shown: the board, the entry's page, the scorecard,
the organisers' judging page and the prize preview. Here every entry has one judge's sheet (a single opinion
has no spread), and its one task has a standard error, so the judge is the reason."""

from __future__ import annotations

import re

import pytest

from tests.factories import PRIZE_SLUG as SLUG
from tests.helpers import page_text, sign_in

ONE_JUDGE = "one judge scored this entry"


@pytest.fixture
def published(db, world, four_entries):
    from leaderboard import cache
    from leaderboard.services import refresh_all

    world.settle()
    world.publish_judging()
    with db() as session:
        refresh_all(session)
    cache.forget_heads()
    return four_entries


def test_the_board_marks_a_final_score_without_its_standard_error_and_says_why(client, published):
    html = client.get(f"/leaderboard?challenge={SLUG}").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*?>Aurora<(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert "no ±" in row and ONE_JUDGE in row  # a short note, its reason in the title
    assert "no ±" in page_text(client.get(f"/leaderboard?challenge={SLUG}")).split("How the board works")[1]


def test_the_entry_page_says_why_its_final_and_judges_scores_have_no_standard_error(client, published):
    text = page_text(client.get(f"/leaderboard/{SLUG}/entries/{published['Aurora']}"))
    final = text.split("Final score", 1)[1].split("</dd>", 1)[0]
    judges = text.split("Judges' score", 1)[1].split("</dd>", 1)[0]
    assert ONE_JUDGE in final and ONE_JUDGE in judges


def test_the_scorecard_and_the_organisers_pages_say_why(client, published):
    sign_in(client, "olga@example.eu")
    card = page_text(client.get(f"/c/{SLUG}/scorecards/{published['Aurora']}"))
    assert ONE_JUDGE in card.split("data-judges-score", 1)[1].split("</p>", 1)[0]
    organise = client.get(f"/c/{SLUG}/judging/organise").get_data(as_text=True)
    assert "no ±" in organise and ONE_JUDGE in organise
    preview = client.get(f"/organiser/c/{SLUG}/prizes").get_data(as_text=True)
    aurora = re.search(r'<tr data-team="Aurora".*?</tr>', preview, re.S).group(0)
    assert "no ±" in aurora and ONE_JUDGE in aurora
