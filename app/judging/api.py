"""Judging over the API: a judge's assignments, conflicts and score sheets; the organisers' assignments,
lock and publication; the judging state and published judges' scores for anyone.

Score sheets with problems answer 422 with a message per criterion; anything after the lock answers 409;
an entry the judge is not assigned to answers 404, one the judge is recused from 403 (saying so). Locking
while score sheets are missing answers 409 listing them (`missing_sheets`) until the body names them all.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Optional

from flask import abort, g, request
from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import Role, User
from app.api import ApiProblem, IsoDateTime, parse_body, respond, route
from app.api.problems import problem
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.db import DatabaseId, get_session
from app.judging.overview import judge_entries
from app.judging.services import (
    JudgingError,
    MissingSheets,
    assign_judge,
    declare_conflict,
    finalise,
    judges_scores,
    judging_state,
    lock_of,
    publish,
    rubric_of,
    submit_sheet,
)
from app.security import public, roles

JudgingStateName = Literal["open", "locked", "published"]


class JudgesScoreOut(BaseModel):
    """The judges' score of a team in [0, 1], its standard error (null with one judge) and how many judged."""

    model_config = ConfigDict(extra="forbid")
    value: float
    stderr: Optional[float]
    n_judges: int


class JudgingStateOut(BaseModel):
    """The judging state; the judges' scores (team id -> score) only once published."""

    model_config = ConfigDict(extra="forbid")
    state: JudgingStateName
    locked_at: Optional[IsoDateTime]
    published_at: Optional[IsoDateTime]
    judges_scores: dict[str, JudgesScoreOut] = Field(description="team id -> the judges' score")


class CriterionOut(BaseModel):
    """A rubric criterion: its weight, its scale [min, max] and the words anchoring some of its scores."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    weight: float
    scale: tuple[int, int]
    anchors: dict[str, str] = Field(description="score -> what it means")


class EntryOut(BaseModel):
    """An entry assigned to the calling judge, or one the judge is recused from."""

    model_config = ConfigDict(extra="forbid")
    team_id: int
    team: str
    status: Literal["to score", "submitted", "recused"]
    scores: Optional[dict[str, Any]] = Field(description="the judge's own sheet, once submitted")


class JudgeAssignments(BaseModel):
    """The calling judge's entries with the rubric they are scored on."""

    model_config = ConfigDict(extra="forbid")
    state: JudgingStateName
    rubric: list[CriterionOut]
    entries: list[EntryOut]


class SheetOut(BaseModel):
    """A submitted score sheet (its private notes are not repeated)."""

    model_config = ConfigDict(extra="forbid")
    team_id: int
    scores: dict[str, Any]
    submitted_at: IsoDateTime


class Recusal(BaseModel):
    """The calling judge is recused from the team."""

    model_config = ConfigDict(extra="forbid")
    team_id: int
    recused: bool


class AssignmentOut(BaseModel):
    """A judge assigned to an entry."""

    model_config = ConfigDict(extra="forbid")
    judge_id: int
    team_id: int


def _challenge(slug: str) -> Challenge:
    found = get_challenge(get_session(), slug)
    if found is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return found


def _act(action: Callable[[Any], Any]) -> Any:
    """Run a judging act and commit; a JudgingError rolls it back (the shell answers it as a problem)."""
    session = get_session()
    try:
        result = action(session)
    except JudgingError:
        session.rollback()
        raise
    session.commit()
    return result


def _state(session, challenge: Challenge) -> JudgingStateOut:
    lock = lock_of(session, challenge)
    return JudgingStateOut(
        state=judging_state(session, challenge),
        locked_at=lock.locked_at if lock else None,
        published_at=lock.published_at if lock else None,
        judges_scores={
            str(team_id): JudgesScoreOut(value=s.value, stderr=s.stderr, n_judges=s.n_judges)
            for team_id, s in judges_scores(session, challenge).items()
        },
    )


@route(
    "/judging/<slug>",
    tag="judging",
    response_model=JudgingStateOut,
    summary="The judging state and, once published, the judges' score of each team",
)
@public
def judging_state_api(slug: str):
    """Anyone: open, locked or published; the judges' scores only once published."""
    return respond(_state(get_session(), _challenge(slug)))


@route(
    "/judging/<slug>/assignments",
    tag="judging",
    summary="The calling judge's entries: to score, submitted or recused, with their rubric",
    response_model=JudgeAssignments,
)
@roles(Role.judge)
def judging_my_assignments(slug: str):
    """The judge's own assignments only; sheets of other judges are never listed here."""
    challenge = _challenge(slug)
    entries = judge_entries(get_session(), challenge, g.api_user)
    return respond(
        JudgeAssignments(
            state=judging_state(get_session(), challenge),
            rubric=[
                CriterionOut(
                    id=c.id,
                    title=c.title,
                    weight=c.weight,
                    scale=(c.scale_min, c.scale_max),
                    anchors={str(k): v for k, v in c.anchors},
                )
                for c in rubric_of(challenge).criteria
            ],
            entries=[
                EntryOut(
                    team_id=e.team.id, team=e.team.name, status=e.status, scores=e.sheet.scores if e.sheet else None
                )
                for e in entries
            ],
        )
    )


class SheetBody(BaseModel):
    """A judge's score sheet: a whole number per rubric criterion, and private notes."""

    model_config = ConfigDict(extra="forbid")
    scores: dict[str, Any] = Field(description="criterion id -> whole-number score on its scale")
    notes: str = Field(default="", max_length=20000, description="Private: never shown to the team or other judges")


@route(
    "/judging/<slug>/entries/<int:team_id>/sheet",
    methods=("POST",),
    tag="judging",
    request_model=SheetBody,
    summary="Submit or revise the calling judge's score sheet for an entry (until judging is locked)",
    response_model=SheetOut,
)
@roles(Role.judge)
def judging_submit_sheet(slug: str, team_id: int):
    """422 with a message per criterion; 409 once locked; 404 unless assigned and not recused."""
    challenge, body = _challenge(slug), parse_body(SheetBody)
    sheet = _act(lambda s: submit_sheet(s, challenge, g.api_user, team_id, body.scores, body.notes))
    return respond(SheetOut(team_id=team_id, scores=sheet.scores, submitted_at=sheet.submitted_at), 201)


class ConflictBody(BaseModel):
    """A declared conflict of interest with a team."""

    model_config = ConfigDict(extra="forbid")
    team_id: DatabaseId
    reason: str = Field(min_length=3, max_length=2000)


@route(
    "/judging/<slug>/conflicts",
    methods=("POST",),
    tag="judging",
    request_model=ConflictBody,
    summary="Declare a conflict of interest with a team: the calling judge is recused from it",
    response_model=Recusal,
)
@roles(Role.judge)
def judging_declare_conflict(slug: str):
    """The assignment, if any, is removed and new ones are refused."""
    challenge, body = _challenge(slug), parse_body(ConflictBody)
    _act(lambda s: declare_conflict(s, challenge, g.api_user, body.team_id, body.reason))
    return respond(Recusal(team_id=body.team_id, recused=True), 201)


class AssignmentBody(BaseModel):
    """An organiser's assignment of a judge to an entry."""

    model_config = ConfigDict(extra="forbid")
    judge_id: DatabaseId
    team_id: DatabaseId


@route(
    "/judging/<slug>/assignments",
    methods=("POST",),
    tag="judging",
    request_model=AssignmentBody,
    summary="Assign a judge to an entry (organisers); 409 when the judge is recused or judging is locked",
    response_model=AssignmentOut,
)
@roles(Role.organiser)
def judging_assign(slug: str):
    """Idempotent: assigning twice keeps one assignment."""
    challenge, body = _challenge(slug), parse_body(AssignmentBody)
    judge = get_session().get(User, body.judge_id)
    if judge is None:
        raise ApiProblem(422, "No such judge.", errors={"judge_id": ["no such user"]})
    row = _act(lambda s: assign_judge(s, challenge, judge, body.team_id, actor_id=g.api_user.id))
    return respond(AssignmentOut(judge_id=row.judge_id, team_id=row.team_id), 201)


class MissingSheetRef(BaseModel):
    """A missing score sheet the organiser accepts to lock without."""

    model_config = ConfigDict(extra="forbid")
    judge_id: int
    team_id: int


class LockBody(BaseModel):
    """Optional: the missing score sheets (as a 409 listed them) to lock without."""

    model_config = ConfigDict(extra="forbid")
    accept_missing: list[MissingSheetRef] = Field(default_factory=list, max_length=100_000)


@route(
    "/judging/<slug>/lock",
    methods=("POST",),
    tag="judging",
    request_model=LockBody,
    response_model=JudgingStateOut,
    summary="Finalise judging: lock every score sheet and assignment (organisers); 409 lists missing sheets",
)
@roles(Role.organiser)
def judging_lock(slug: str):
    """409 when already finalised, or while a score sheet is missing that `accept_missing` does not name."""
    challenge = _challenge(slug)
    body = parse_body(LockBody) if request.content_length else LockBody()
    accepted = [f"{ref.judge_id}:{ref.team_id}" for ref in body.accept_missing]
    try:
        _act(lambda s: finalise(s, challenge, actor_id=g.api_user.id, accept_missing=accepted))
    except MissingSheets as exc:  # rolled back by _act; the answer lists the sheets
        abort(
            problem(
                409,
                exc.message,
                missing_sheets=[
                    {"judge_id": m.judge_id, "judge": m.judge, "team_id": m.team_id, "team": m.team}
                    for m in exc.missing
                ],
            )
        )
    return respond(_state(get_session(), challenge))


@route(
    "/judging/<slug>/publish",
    methods=("POST",),
    tag="judging",
    response_model=JudgingStateOut,
    summary="Publish the locked judges' scores (organisers)",
)
@roles(Role.organiser)
def judging_publish(slug: str):
    """409 unless finalised and not yet published."""
    challenge = _challenge(slug)
    _act(lambda s: publish(s, challenge, actor_id=g.api_user.id))
    return respond(_state(get_session(), challenge))
