"""Judging overviews: a judge's entries with their status, and the organisers' matrix and progress."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.challenges.models import Challenge
from app.judging.models import ConflictDeclaration, JudgeAssignment, RubricScoreSheet
from app.judging.services import AssignedEntry, entry_teams, judges_scores, judging_state

TO_SCORE, SUBMITTED, RECUSED = "to score", "submitted", "recused"


def _rows(session: Session, model: Any, challenge: Challenge, judge_id: int | None = None) -> list[Any]:
    query = select(model).where(model.challenge_id == challenge.id)
    if judge_id is not None:
        query = query.where(model.judge_id == judge_id)
    return list(session.exec(query).all())


def judge_entries(session: Session, challenge: Challenge, judge: User) -> list[AssignedEntry]:
    """The judge's assigned entries (to score / submitted) and the teams they are recused from."""
    teams = {t.id: t for t in entry_teams(session, challenge)}
    sheets = {s.team_id: s for s in _rows(session, RubricScoreSheet, challenge, judge.id)}
    recused = {c.team_id for c in _rows(session, ConflictDeclaration, challenge, judge.id)}
    assigned = {a.team_id for a in _rows(session, JudgeAssignment, challenge, judge.id)}
    entries = [
        AssignedEntry(teams[t], SUBMITTED if t in sheets else TO_SCORE, sheets.get(t))
        for t in sorted(assigned - recused, key=lambda t: teams[t].name)
        if t in teams
    ]
    entries += [AssignedEntry(teams[t], RECUSED) for t in sorted(recused, key=lambda t: teams[t].name) if t in teams]
    return entries


def organiser_overview(session: Session, challenge: Challenge) -> dict[str, Any]:
    """Judges, entries, the (judge, team) matrix ("none" | "assigned" | "submitted" | "recused"),
    the count of sheets per entry, the judges' scores so far and the judging state."""
    judges = list(
        session.exec(
            select(User)
            .where(User.role == Role.judge, User.is_active == True)  # noqa: E712
            .order_by(User.display_name)
        ).all()
    )
    teams = entry_teams(session, challenge)
    assigned = {(a.judge_id, a.team_id) for a in _rows(session, JudgeAssignment, challenge)}
    sheets = {(s.judge_id, s.team_id) for s in _rows(session, RubricScoreSheet, challenge)}
    recused = {(c.judge_id, c.team_id) for c in _rows(session, ConflictDeclaration, challenge)}
    matrix = {}
    for judge in judges:
        for team in teams:
            key = (judge.id, team.id)
            matrix[key] = (
                "recused"
                if key in recused
                else "submitted"
                if key in sheets and key in assigned
                else "assigned"
                if key in assigned
                else "none"
            )
    progress = {
        team.id: (
            sum(1 for j in judges if matrix[(j.id, team.id)] == "submitted"),
            sum(1 for j in judges if matrix[(j.id, team.id)] in ("assigned", "submitted")),
        )
        for team in teams
    }
    return {
        "judges": judges,
        "teams": teams,
        "matrix": matrix,
        "progress": progress,
        "scores": judges_scores(session, challenge, published_only=False),
        "state": judging_state(session, challenge),
    }
