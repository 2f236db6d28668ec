"""Demo judging: both demo judges assigned to the demo teams, one declared conflict, a few score sheets.

Judging stays open: the demo's judging phase lies weeks ahead, so an organiser can try finalising and
publishing, and Jonas still has Baltic Tensor and Iberia NLP to score (Joana scored Iberia NLP: he sees her
scores once he submits). Finalising now names those two missing sheets and asks again. Joana is recused from Baltic Tensor: its scorecard
tells her so (403), and her conflict form offers only the other teams.
"""

from __future__ import annotations

from sqlmodel import Session

from app.accounts.demo import DEMO_ACCOUNTS
from app.accounts.services import find_user
from app.challenges.models import Challenge
from app.judging.services import (
    OPEN,
    assign_judge,
    declare_conflict,
    entry_teams,
    is_recused,
    judging_state,
    sheet_of,
    submit_sheet,
)

JONAS, JOANA, ORGANISER = "judge@demo.lagc.eu", "judge2@demo.lagc.eu", "organiser@demo.lagc.eu"
CONFLICT = (JOANA, "Baltic Tensor (LV)", "I advised Baltic Tensor on its funding round in 2023.")
SHEETS = (
    (
        JONAS,
        "Aurora Labs (FI)",
        {
            "technical_excellence": 7,
            "european_languages_and_impact": 8,
            "responsible_ai": 6,
            "feasibility_of_plan": 7,
            "openness": 9,
        },
        "Strong Finnish and Estonian results; ask about the data licence of the web crawl.",
    ),
    (
        JOANA,
        "Aurora Labs (FI)",
        {
            "technical_excellence": 8,
            "european_languages_and_impact": 7,
            "responsible_ai": 5,
            "feasibility_of_plan": 6,
            "openness": 8,
        },
        "Good model; the safety evaluation is thin.",
    ),
    (
        JOANA,
        "Iberia NLP (PT)",
        {
            "technical_excellence": 6,
            "european_languages_and_impact": 7,
            "responsible_ai": 7,
            "feasibility_of_plan": 5,
            "openness": 6,
        },
        "Solid Portuguese and Spanish; the compute plan relies on one cluster.",
    ),
)


def extend_demo(session: Session, settings, challenge: Challenge) -> None:
    """Assign, declare the conflict and add the sheets, each only once (idempotent)."""
    organiser, judges = find_user(session, ORGANISER), [find_user(session, e) for e in (JONAS, JOANA)]
    if organiser is None or None in judges or judging_state(session, challenge) != OPEN:
        return
    named = {team for *_, team in DEMO_ACCOUNTS if team}  # the demo accounts' teams, not any crowd added for the board
    teams = {t.name: t for t in entry_teams(session, challenge) if t.name in named}
    email, team_name, reason = CONFLICT
    conflicted = find_user(session, email)
    if team_name in teams and not is_recused(session, challenge, conflicted.id, teams[team_name].id):
        declare_conflict(session, challenge, conflicted, teams[team_name].id, reason)
        session.flush()
    for judge in judges:
        for team in teams.values():
            if not is_recused(session, challenge, judge.id, team.id):
                assign_judge(session, challenge, judge, team.id, actor_id=organiser.id)
    session.flush()
    for email, team_name, scores, notes in SHEETS:
        judge = find_user(session, email)
        if team_name in teams and sheet_of(session, challenge, judge.id, teams[team_name].id) is None:
            submit_sheet(session, challenge, judge, teams[team_name].id, scores, notes)
    session.flush()
