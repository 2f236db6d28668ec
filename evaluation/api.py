"""Evaluation API for scripts: one evaluation's status, and a team's evaluations in a challenge."""
from __future__ import annotations

from flask import jsonify
from sqlmodel import select

from app.accounts.models import Role
from app.api import ApiProblem, route
from app.challenges.services import get_challenge
from app.db import get_session
from app.security import current_identity, signed_in
from app.teams.models import TeamMembership
from app.teams.services import team_of
from evaluation.models import Evaluation
from evaluation.status import status_of

STATUS_SCHEMA = {"type": "object", "required": ["id", "state", "label", "final"], "properties": {
    "id": {"type": "integer"},
    "state": {"type": "string", "enum": ["queued", "dispatching", "dispatched", "running", "finished", "failed",
                                         "cancelled"]},
    "label": {"type": "string"}, "final": {"type": "boolean"}, "attempt": {"type": "integer"},
    "site": {"type": ["string", "null"], "description": "the site that holds or ran it (challenges run by sites)"},
    "queue_position": {"type": ["integer", "null"]}, "started_at": {"type": ["string", "null"]},
    "reason": {"type": ["string", "null"]}, "log_tail": {"type": "array", "items": {"type": "string"}},
    "scores": {"type": "array", "items": {"type": "object"}},
    "layout": {"type": ["object", "null"], "description": "the planned layout: backend, nodes, "
               "tensor_parallel_size, pipeline_parallel_size, expert_parallel and the planner's reasons"},
    "layout_words": {"type": ["string", "null"]}}}


def _visible(session, user, evaluation_id: int) -> Evaluation:
    ev = session.get(Evaluation, evaluation_id)
    if ev is not None and Role(user.role) is not Role.organiser:
        member = session.exec(select(TeamMembership.id).where(TeamMembership.team_id == ev.team_id,
                                                              TeamMembership.user_id == user.id)).first()
        ev = ev if member is not None else None
    if ev is None:
        raise ApiProblem(404, f"No evaluation {evaluation_id}.")
    return ev


@route("/evaluations/<int:evaluation_id>", summary="Where an evaluation stands: state, queue position, "
       "failure reason and log tail, scores (team members and organisers)", tag="evaluation",
       response_schema=STATUS_SCHEMA)
@signed_in
def evaluation_status(evaluation_id: int):
    session, user = get_session(), current_identity()
    ev = _visible(session, user, evaluation_id)
    return jsonify(status_of(session, ev, organiser=Role(user.role) is Role.organiser))


@route("/challenges/<slug>/evaluations", summary="Your team's evaluations in a challenge, newest first",
       tag="evaluation", response_schema={"type": "object", "properties": {
           "evaluations": {"type": "array", "items": STATUS_SCHEMA}}})
@signed_in
def team_evaluations(slug: str):
    session, user = get_session(), current_identity()
    challenge = get_challenge(session, slug)
    team = team_of(session, user, challenge.id) if challenge is not None else None
    if team is None:
        raise ApiProblem(404, f"You have no team in challenge {slug!r}.")
    rows = session.exec(select(Evaluation).where(Evaluation.team_id == team.id).order_by(Evaluation.id.desc())).all()
    return jsonify({"evaluations": [status_of(session, ev, organiser=False) for ev in rows]})
