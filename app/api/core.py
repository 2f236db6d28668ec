"""The platform's core API routes: the OpenAPI document, challenges, the caller, and team registration.
Each feature adds its own routes through `app.api.route` in its own module."""

from __future__ import annotations

from datetime import date
from typing import Optional

from flask import g, jsonify
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.api import ApiProblem, IsoDateTime, openapi_document, parse_body, respond, route
from app.challenges.services import config_of, get_challenge, list_challenges, phases_of
from app.challenges.gating import ACTIONS
from app.db import get_session, utcnow
from app.security import public, roles, signed_in
from app.teams.services import TeamError, register_team, teams_of


class PhaseOut(BaseModel):
    """A phase of a challenge and the entrant actions it allows."""

    model_config = ConfigDict(extra="forbid")
    key: str
    name: str
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    allows: list[str] = Field(description="register, apply, submit: the entrant actions open during the phase")


class ActionGate(BaseModel):
    """Whether an entrant action is allowed now, and why (or why not) in words."""

    model_config = ConfigDict(extra="forbid")
    allowed: bool
    reason: str


class PrizeOut(BaseModel):
    """The challenge's prize: money in euro cents, GPU hours per winner and per cluster."""

    model_config = ConfigDict(extra="forbid")
    pool_cents: int
    max_winners: int
    policy: str
    per_winner_cents: Optional[int]
    gpu_hours_per_winner: int
    compute_hours: dict[str, int] = Field(description="cluster name -> GPU hours")


class ChallengeOut(BaseModel):
    """A challenge with its phases, what entrants may do now, and its prize."""

    model_config = ConfigDict(extra="forbid")
    slug: str
    name: str
    call_date: date
    phases: list[PhaseOut]
    actions: dict[str, ActionGate] = Field(description="register, apply, submit: allowed now, and the reason")
    prize: PrizeOut


class ChallengeList(BaseModel):
    """The challenges hosted on this platform."""

    challenges: list[ChallengeOut]


class TeamRef(BaseModel):
    """A team the caller belongs to."""

    model_config = ConfigDict(extra="forbid")
    id: int
    name: str
    challenge_id: int


class Me(BaseModel):
    """The account an API token belongs to."""

    model_config = ConfigDict(extra="forbid")
    id: int
    email: str
    display_name: str
    role: Role
    teams: list[TeamRef]


class TeamCreated(BaseModel):
    """A newly registered team."""

    model_config = ConfigDict(extra="forbid")
    id: int
    name: str
    challenge: str = Field(description="the challenge's slug")


@route("/openapi.json", summary="This OpenAPI document")
@public
def openapi():
    return jsonify(openapi_document())


def _challenge_out(session, challenge) -> ChallengeOut:
    config, now = config_of(challenge), utcnow()
    allows = {p.key: sorted(p.actions) for p in config.phases}
    prize = config.prize
    return ChallengeOut(
        slug=challenge.slug,
        name=challenge.name,
        call_date=challenge.call_date,
        phases=[
            PhaseOut(key=p.key, name=p.name, starts_at=p.starts_at, ends_at=p.ends_at, allows=allows.get(p.key, []))
            for p in phases_of(session, challenge)
        ],
        actions={
            action: ActionGate(allowed=gate.allowed, reason=gate.reason)
            for action, gate in ((a, config.gate(a, now)) for a in ACTIONS)
        },
        prize=PrizeOut(
            pool_cents=prize.pool_cents,
            max_winners=prize.max_winners,
            policy=prize.policy,
            per_winner_cents=prize.per_winner_cents,
            gpu_hours_per_winner=prize.gpu_hours_per_winner,
            compute_hours=dict(prize.compute_hours),
        ),
    )


@route("/challenges", summary="The challenges hosted on this platform", response_model=ChallengeList)
@public
def challenges():
    session = get_session()
    return respond(ChallengeList(challenges=[_challenge_out(session, c) for c in list_challenges(session)]))


@route("/challenges/<slug>", summary="One challenge with its phases and prize", response_model=ChallengeOut)
@public
def challenge(slug: str):
    session = get_session()
    found = get_challenge(session, slug)
    if found is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return respond(_challenge_out(session, found))


@route("/me", summary="The account the token belongs to, with its teams", response_model=Me)
@signed_in
def me():
    user = g.api_user
    return respond(
        Me(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=Role(user.role),
            teams=[TeamRef(id=t.id, name=t.name, challenge_id=t.challenge_id) for t in teams_of(get_session(), user)],
        )
    )


class TeamCreate(BaseModel):
    """The body of a team registration."""

    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=64, description="The challenge's slug")
    name: str = Field(min_length=2, max_length=120, description="The start-up's team name")


@route(
    "/teams",
    methods=("POST",),
    summary="Register the caller's team in a challenge",
    request_model=TeamCreate,
    response_model=TeamCreated,
)
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
    return respond(TeamCreated(id=team.id, name=team.name, challenge=found.slug), 201)
