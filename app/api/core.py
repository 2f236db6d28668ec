"""The platform's core API routes: the OpenAPI document, challenges, the caller, and team registration.
Each feature adds its own routes through `app.api.route` in its own module."""
from __future__ import annotations

from flask import g, jsonify
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.api import ApiProblem, openapi_document, parse_body, route
from app.challenges.services import config_of, get_challenge, list_challenges, phases_of
from app.challenges.gating import ACTIONS
from app.db import get_session, utcnow
from app.security import public, roles, signed_in
from app.teams.services import TeamError, register_team, teams_of

CHALLENGE_SCHEMA = {"type": "object", "properties": {
    "slug": {"type": "string"}, "name": {"type": "string"}, "call_date": {"type": "string", "format": "date"},
    "phases": {"type": "array", "items": {"type": "object"}}, "prize": {"type": "object"},
    "actions": {"type": "object", "description": "register, apply, submit: allowed now, and the reason in words"}}}


@route("/openapi.json", summary="This OpenAPI document")
@public
def openapi():
    return jsonify(openapi_document())


def _challenge_json(session, challenge) -> dict:
    config, now = config_of(challenge), utcnow()
    allows = {p.key: sorted(p.actions) for p in config.phases}
    return {
        "slug": challenge.slug, "name": challenge.name, "call_date": challenge.call_date.isoformat(),
        "phases": [{"key": p.key, "name": p.name, "starts_at": p.starts_at.isoformat(),
                    "ends_at": p.ends_at.isoformat(), "allows": allows.get(p.key, [])}
                   for p in phases_of(session, challenge)],
        "actions": {action: {"allowed": gate.allowed, "reason": gate.reason}
                    for action, gate in ((a, config.gate(a, now)) for a in ACTIONS)},
        "prize": {"pool_cents": config.prize.pool_cents, "max_winners": config.prize.max_winners,
                  "policy": config.prize.policy, "per_winner_cents": config.prize.per_winner_cents,
                  "gpu_hours_per_winner": config.prize.gpu_hours_per_winner,
                  "compute_hours": dict(config.prize.compute_hours)},
    }


@route("/challenges", summary="The challenges hosted on this platform",
       response_schema={"type": "object", "properties": {"challenges": {"type": "array", "items": CHALLENGE_SCHEMA}}})
@public
def challenges():
    session = get_session()
    return jsonify({"challenges": [_challenge_json(session, c) for c in list_challenges(session)]})


@route("/challenges/<slug>", summary="One challenge with its phases and prize", response_schema=CHALLENGE_SCHEMA)
@public
def challenge(slug: str):
    session = get_session()
    found = get_challenge(session, slug)
    if found is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return jsonify(_challenge_json(session, found))


@route("/me", summary="The account the token belongs to, with its teams")
@signed_in
def me():
    user = g.api_user
    return jsonify({"id": user.id, "email": user.email, "display_name": user.display_name,
                    "role": Role(user.role).value,
                    "teams": [{"id": t.id, "name": t.name, "challenge_id": t.challenge_id}
                              for t in teams_of(get_session(), user)]})


class TeamCreate(BaseModel):
    """The body of a team registration."""

    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=64, description="The challenge's slug")
    name: str = Field(min_length=2, max_length=120, description="The start-up's team name")


@route("/teams", methods=("POST",), summary="Register the caller's team in a challenge", request_model=TeamCreate)
@roles(Role.entrant)
def create_team():
    body = parse_body(TeamCreate)
    session = get_session()
    found = get_challenge(session, body.challenge)
    if found is None:
        raise ApiProblem(422, "Some fields are missing or invalid.", {"challenge": ["No such challenge."]})
    try:
        team = register_team(session, g.api_user, found, body.name)
        session.commit()
    except TeamError:
        session.rollback()
        raise  # the shell answers it as a problem (422 with the field, else 409)
    except IntegrityError:
        session.rollback()
        raise ApiProblem(409, "You already belong to a team in this challenge.") from None
    return jsonify({"id": team.id, "name": team.name, "challenge": found.slug}), 201
