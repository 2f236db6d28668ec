"""Evaluation API for scripts: one evaluation's status, a team's evaluations in a challenge, and which of its
submissions counts (the team may choose an evaluated one until the board freezes: `evaluation.choice`)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import select

from app.accounts.models import Role
from app.api import ApiProblem, parse_body, respond, route
from app.challenges.services import get_challenge
from app.db import DatabaseId, get_session
from app.security import current_identity, roles, signed_in
from app.teams.models import TeamMembership
from app.teams.services import team_of
from evaluation.choice import ChoicePanel, ChoiceRefused, choice_panel, choose
from evaluation.counted import CountedEntry
from evaluation.models import Evaluation
from evaluation.status import status_of


class EvaluationStatus(BaseModel):
    """Where an evaluation stands (`evaluation.status.status_of`), as a script reads it."""

    model_config = ConfigDict(extra="forbid")  # a key status_of adds must be described here too
    id: int
    state: Literal["queued", "dispatching", "dispatched", "running", "finished", "failed", "cancelled"]
    label: str
    final: bool
    attempt: int
    max_attempts: int
    submission_id: int
    queue_position: Optional[int]
    cluster: Optional[str]
    site: Optional[str] = Field(description="the site that holds or ran it (challenges run by sites)")
    runner: Optional[str]
    job_id: Optional[str]
    node: Optional[str]
    queued_at: Optional[str]
    dispatched_at: Optional[str]
    started_at: Optional[str]
    running_seconds: Optional[int]
    finished_at: Optional[str]
    reason: Optional[str]
    retry_at: Optional[str]
    log_tail: list[str]
    gpu_hours: Optional[float]
    elapsed_seconds: Optional[float]
    layout: Optional[dict[str, Any]] = Field(
        description="the planned layout: backend, nodes, tensor_parallel_size, "
        "pipeline_parallel_size, expert_parallel and the planner's reasons"
    )
    layout_words: Optional[str]
    scores: list[dict[str, Any]]
    history: list[dict[str, Any]]


class TeamEvaluations(BaseModel):
    """A team's evaluations in a challenge, newest first."""

    evaluations: list[EvaluationStatus]


def _visible(session, user, evaluation_id: int) -> Evaluation:
    ev = session.get(Evaluation, evaluation_id)
    if ev is not None and Role(user.role) is not Role.organiser:
        member = session.exec(
            select(TeamMembership.id).where(TeamMembership.team_id == ev.team_id, TeamMembership.user_id == user.id)
        ).first()
        ev = ev if member is not None else None
    if ev is None:
        raise ApiProblem(404, f"No evaluation {evaluation_id}.")
    return ev


@route(
    "/evaluations/<int:evaluation_id>",
    summary="Where an evaluation stands: state, queue position, "
    "failure reason and log tail, scores (team members and organisers)",
    tag="evaluation",
    response_model=EvaluationStatus,
)
@signed_in
def evaluation_status(evaluation_id: int):
    session, user = get_session(), current_identity()
    ev = _visible(session, user, evaluation_id)
    return respond(EvaluationStatus(**status_of(session, ev, organiser=Role(user.role) is Role.organiser)))


@route(
    "/challenges/<slug>/evaluations",
    summary="Your team's evaluations in a challenge, newest first",
    tag="evaluation",
    response_model=TeamEvaluations,
)
@signed_in
def team_evaluations(slug: str):
    session, user = get_session(), current_identity()
    challenge = get_challenge(session, slug)
    team = team_of(session, user, challenge.id) if challenge is not None else None
    if team is None:
        raise ApiProblem(404, f"You have no team in challenge {slug!r}.")
    rows = session.exec(select(Evaluation).where(Evaluation.team_id == team.id).order_by(Evaluation.id.desc())).all()
    return respond(
        TeamEvaluations(evaluations=[EvaluationStatus(**status_of(session, ev, organiser=False)) for ev in rows])
    )


ENTRY_SCHEMA = {
    "type": ["object", "null"],
    "properties": {
        "status": {"enum": ["scored", "pending", "failed", "none"]},
        "submission_id": {"type": ["integer", "null"]},
        "label": {"type": ["string", "null"]},
        "evaluation_id": {"type": ["integer", "null"]},
        "chosen": {"type": "boolean"},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}
COUNTED_SCHEMA = {
    "type": "object",
    "required": ["rule", "counted"],
    "properties": {
        "rule": {"enum": ["chosen_or_latest_scored", "latest_scored"]},
        "rule_words": {"type": "string"},
        "counted": ENTRY_SCHEMA,
        "frozen_at": {"type": ["string", "null"]},
        "frozen": ENTRY_SCHEMA,
        "chosen_submission_id": {"type": ["integer", "null"]},
        "can_choose": {"type": "boolean"},
        "why_not": {"type": ["string", "null"]},
        "submissions": {"type": "object", "additionalProperties": {"enum": ["scored", "evaluating", "failed"]}},
    },
}


class CountedChoiceBody(BaseModel):
    """The submission that counts for the caller's team; null: its latest scored submission again."""

    model_config = ConfigDict(extra="forbid")
    submission_id: Optional[DatabaseId] = Field(description="an evaluated submission of the team, or null")


def _own_team(slug: str):
    session, user = get_session(), current_identity()
    challenge = get_challenge(session, slug)
    team = team_of(session, user, challenge.id) if challenge is not None else None
    if team is None:
        raise ApiProblem(404, f"You have no team in challenge {slug!r}.")
    return challenge, team


def _entry_json(entry: Optional[CountedEntry]) -> Optional[dict]:
    if entry is None:
        return None
    return {
        "status": entry.status,
        "submission_id": entry.submission_id,
        "label": entry.label,
        "evaluation_id": entry.evaluation_id,
        "chosen": entry.chosen,
        "notes": list(entry.notes),
    }


def _counted_json(panel: ChoicePanel) -> dict:
    choice = panel.choice
    return {
        "rule": panel.rule,
        "rule_words": panel.rule_words,
        "counted": _entry_json(panel.live),
        "frozen_at": panel.frozen_at.isoformat() if panel.frozen_at else None,
        "frozen": _entry_json(panel.frozen),
        "chosen_submission_id": choice.submission_id if choice else None,
        "can_choose": panel.closed is None,
        "why_not": panel.closed,
        "submissions": {str(k): v for k, v in sorted(panel.states.items())},
    }


@route(
    "/challenges/<slug>/counted",
    summary="Which of your team's submissions counts, now and on the frozen board, and whether you may still choose",
    tag="evaluation",
    response_schema=COUNTED_SCHEMA,
)
@roles(Role.entrant)
def team_counted(slug: str):
    challenge, team = _own_team(slug)
    return jsonify(_counted_json(choice_panel(get_session(), challenge, team.id)))


@route(
    "/challenges/<slug>/counted",
    methods=("POST",),
    request_model=CountedChoiceBody,
    tag="evaluation",
    response_schema=COUNTED_SCHEMA,
    summary="Choose which of your team's evaluated submissions counts (null: "
    "the latest scored one); 409 after the freeze or for a submission without a finished evaluation",
)
@roles(Role.entrant)
def choose_team_counted(slug: str):
    challenge, team = _own_team(slug)
    body = parse_body(CountedChoiceBody)
    session = get_session()
    try:
        choose(session, challenge, team, current_identity().id, body.submission_id)
    except ChoiceRefused:
        session.rollback()
        raise  # the shell answers it as a problem (404 or 409)
    session.commit()
    return jsonify(_counted_json(choice_panel(session, challenge, team.id)))
