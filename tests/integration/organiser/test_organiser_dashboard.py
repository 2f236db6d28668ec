"""The challenge dashboard (empty and with data), baselines, and who may use the console."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.teams.models import Team
from tests import factories
from tests.helpers import sign_in, submit

PAGES = [
    "/organiser/",
    "/organiser/c/lagc-2024",
    "/organiser/c/lagc-2024/config",
    "/organiser/new",
    "/organiser/c/lagc-2024/config.toml",
    "/organiser/audit",
    "/organiser/audit/export.csv",
    "/organiser/c/lagc-2024/baselines",
]


def test_the_dashboard_renders_for_a_challenge_without_activity(organiser, closed_challenge):
    page = organiser.get("/organiser/c/lagc-2024").get_data(as_text=True)
    assert "No evaluation yet." in page and "No GPU-hours charged yet." in page and "No judge assigned yet." in page
    assert "No deadline ahead" in page  # the 2024 phases are over


def _activity(db, make_user) -> None:
    from evaluation.models import GpuCharge

    ana, judge = make_user("ana@aurora.eu"), make_user("jonas@lagc.eu", Role.judge)
    with db() as session:
        team = factories.registered_team(session, ana, "lagc-2024", "Aurora Labs")
        sub = factories.submission(session, team.challenge_id, team.id, ana, label="v1")
        ev = factories.evaluation(session, sub, cluster="lumi-g")
        session.add(
            GpuCharge(
                challenge_id=team.challenge_id, team_id=team.id, evaluation_id=ev.id, cluster="lumi-g", gpu_hours=150.0
            )
        )
        factories.assignment(session, team.challenge_id, judge, team.id)
        factories.sheet(session, team.challenge_id, judge, team.id, scores={})


def test_the_dashboard_counts_applications_submissions_evaluations_gpu_hours_and_judging(
    organiser, db, make_user, challenge
):
    _activity(db, make_user)
    page = organiser.get("/organiser/c/lagc-2024").get_data(as_text=True)
    assert "<dt>not applied</dt><dd>1</dd>" in page
    assert "<dt>accepted</dt><dd>1</dd>" in page
    assert '<tr><th scope="row">lumi-g</th><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td>' in page
    assert (
        '<td><span class="name" title="Aurora Labs">Aurora Labs</span></td><td>lumi-g</td><td>150.00</td>\n'
        "      <td>200</td>"
    ) in page and "75%" in page
    assert '<td><span class="name" title="jonas">jonas</span></td><td>1</td><td>1 / 1</td>' in page


def test_an_organiser_registers_a_baseline_team(organiser, db, challenge):
    response = submit(organiser, "/organiser/c/lagc-2024/baselines", {"model": "Llama-3-8B"})
    assert response.status_code == 302
    page = organiser.get("/organiser/c/lagc-2024/baselines").get_data(as_text=True)
    assert "Baseline: Llama-3-8B" in page
    again = submit(organiser, "/organiser/c/lagc-2024/baselines", {"model": "Llama-3-8B"})
    assert again.status_code == 422 and "already a team" in again.get_data(as_text=True)
    with db() as session:
        team = session.exec(Team.__table__.select()).one()
        assert team.is_baseline and team.name == "Baseline: Llama-3-8B"


@pytest.mark.parametrize("role", [Role.entrant, Role.judge])
def test_entrants_and_judges_are_refused_the_console(client, make_user, challenge, role):
    make_user("someone@example.eu", role)
    sign_in(client, "someone@example.eu")
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_anonymous_visitors_are_sent_to_sign_in(client, challenge):
    assert "/signin" in client.get("/organiser/audit").headers["Location"]
