"""Prizes over the API: the published award for anyone; preview and confirm for organisers.

A preview whose preconditions are missing answers 409 listing each one; a confirmation must carry the
fingerprint of the preview it confirms (409 when the inputs changed in between).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Optional, Union

from flask import current_app, g, jsonify
from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import Role
from app.api import ApiProblem, IsoDateTime, parse_body, respond, route
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.db import get_session, utcnow
from app.prizes import workflow
from app.prizes.records import chain_of, published_award
from app.prizes.services import preview_state, winners_of
from app.security import public, roles


class WinnerOut(BaseModel):
    """A winner: rank, money in euro cents, GPU hours per cluster, and its release obligation."""

    model_config = ConfigDict(extra="forbid")
    team: str
    team_id: int
    rank: int
    amount_cents: int
    gpu_hours: dict[str, Union[int, float]] = Field(description="cluster name -> GPU hours")
    obligation: str = Field(description="pending, met, overdue, or not opened")
    deadline: Optional[IsoDateTime]


class AwardOut(BaseModel):
    """An award record of the challenge's hash chain, with its winners."""

    model_config = ConfigDict(extra="forbid")
    challenge: str
    sequence: int
    kind: str
    hash: str
    policy: Optional[str]
    confirmed_at: Optional[str] = Field(json_schema_extra={"format": "date-time"})
    winners: list[WinnerOut]


class ConfirmBody(BaseModel):
    """A confirmation: the fingerprint of the preview being confirmed."""

    model_config = ConfigDict(extra="forbid")
    fingerprint: str = Field(min_length=64, max_length=64, description="`fingerprint` from the preview")


def _challenge(slug: str) -> Challenge:
    found = get_challenge(get_session(), slug)
    if found is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return found


def _award(challenge: Challenge, award) -> AwardOut:
    winners = [
        WinnerOut(
            team=w["team"],
            team_id=w["team_id"],
            rank=w["rank"],
            amount_cents=w["amount_cents"],
            gpu_hours=w["gpu_hours"],
            obligation=w["obligation"],
            deadline=w["deadline"],
        )
        for w in winners_of(get_session(), challenge, award)
    ]
    return AwardOut(
        challenge=challenge.slug,
        sequence=award.sequence,
        kind=award.kind,
        hash=award.hash,
        policy=award.payload.get("policy"),
        confirmed_at=award.payload.get("confirmed_at"),
        winners=winners,
    )


@route(
    "/prizes/<slug>/award",
    tag="prizes",
    response_model=AwardOut,
    summary="The published award: winners, amounts in euro cents, GPU hours, release obligations",
)
@public
def prizes_published_award(slug: str):
    """Anyone, once the organisers published the award; 404 before."""
    challenge = _challenge(slug)
    award = published_award(chain_of(get_session(), challenge.id))
    if award is None:
        raise ApiProblem(404, "The award of this challenge is not published yet.")
    return respond(_award(challenge, award))


@route(
    "/prizes/<slug>/preview",
    methods=("POST",),
    tag="prizes",
    summary="Preview the prize split from the final ranking (organisers); 409 lists what is missing",
)
@roles(Role.organiser)
def prizes_preview(slug: str):
    """The preview with each entry in or out and why, and the fingerprint to confirm it with."""
    challenge, session = _challenge(slug), get_session()
    state = preview_state(session, challenge, current_app.config["LAGC"], utcnow())
    if state.missing:
        raise ApiProblem(409, "The award cannot be previewed yet.", errors={"preconditions": state.missing})
    preview = state.preview
    return jsonify(
        {
            "fingerprint": preview.fingerprint,
            "refused": preview.refused,
            "tied_team_ids": list(preview.tied),
            "rows": [asdict(r) for r in preview.rows],
            "split": preview.payload,
        }
    )


@route(
    "/prizes/<slug>/confirm",
    methods=("POST",),
    tag="prizes",
    request_model=ConfirmBody,
    response_model=AwardOut,
    summary="Confirm the previewed award (organisers): a chained record",
)
@roles(Role.organiser)
def prizes_confirm(slug: str):
    """Record the award exactly as previewed; 409 when it was awarded already or the inputs changed."""
    body = parse_body(ConfirmBody)
    challenge, session = _challenge(slug), get_session()
    try:
        award = workflow.confirm(session, challenge, current_app.config["LAGC"], g.api_user, body.fingerprint, utcnow())
    except workflow.PrizeError:
        session.rollback()
        raise  # the shell answers it as a problem
    session.commit()
    return respond(_award(challenge, award)), 201
