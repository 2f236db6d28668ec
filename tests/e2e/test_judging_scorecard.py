"""A judge scores an assigned entry in a real browser, then sees the other judge's scores (the blind rule)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.accounts.services import find_user
from tests import factories
from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e
# Raw values per task of the demo's suite, in suite order (any extra tasks get the last value).
RESULTS = {
    "Iberia NLP (PT)": [(0.61, 0.010), (0.74, 0.012), (0.38, 0.015)],
    "Aurora Labs (FI)": [(0.66, 0.010), (0.71, 0.012), (0.41, 0.015)],
}


def _suite(session: Session, challenge_id: int) -> list[str]:
    """The demo challenge's benchmark task names (its `[[benchmark.tasks]]`)."""
    from app.challenges.config import parse_section
    from app.challenges.models import Challenge
    from app.challenges.services import config_of

    return [task.name for task in parse_section(config_of(session.get(Challenge, challenge_id)), "benchmark") or ()]


@pytest.fixture
def evaluated_entries(server_db) -> int:
    """Finished evaluations for two demo teams in the running platform's database; returns Iberia's team id."""
    with server_db() as session:
        organiser = find_user(session, "organiser@demo.lagc.eu")
        for name, values in RESULTS.items():
            team = factories.team_named(session, name)
            names = _suite(session, team.challenge_id) or ["arc_easy", "hellaswag", "boolq"]
            tasks = {task: values[min(i, len(values) - 1)] for i, task in enumerate(names)}
            submission = factories.submission(
                session,
                team.challenge_id,
                team.id,
                organiser.id,
                label=f"{name} e2e",
                parameters=7_241_732_096,
                total_bytes=14_483_464_192,
                dtypes={"bfloat16": 7_241_732_096},
            )
            factories.evaluation(
                session,
                submission,
                tasks,
                cluster="leonardo",
                job_id="918273",
                gpu_hours=2.25,
                provenance={"lm_eval_version": "0.4.8"},
                task_hashes={t: f"{t}-hash" for t in tasks},
            )
        return factories.team_named(session, "Iberia NLP (PT)").id


def test_a_judge_submits_the_rubric_then_sees_the_other_judges_scores(page, server, evaluated_entries):
    sign_in(page, server, "judge@demo.lagc.eu")
    page.goto(server + "/c/demo/judging")
    page.get_by_role("link", name="Iberia NLP (PT)").click()
    expect(page.locator("[data-other-judges='hidden']")).to_be_visible()
    assert page.get_by_text("Joana Judge").count() == 0
    expect(page.locator("svg[role='img']")).to_be_visible()
    for label, score in (
        ("Technical excellence", "6"),
        ("European languages and impact", "8"),
        ("Responsible AI", "7"),
        ("Feasibility of the plan", "6"),
        ("Openness", "7"),
    ):
        page.get_by_label(label, exact=False).fill(score)
    page.get_by_label("Private notes", exact=False).fill("Convincing Portuguese results.")
    page.get_by_role("button", name="Submit my scores").click()
    others = page.locator("[data-other-judges='shown']")
    expect(others).to_be_visible()
    expect(others.get_by_text("Joana Judge")).to_be_visible()
    assert "Solid Portuguese" not in page.content()  # Joana's private notes stay hers
