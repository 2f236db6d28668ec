"""Eligibility over the API: a public check anyone can run before registering, a team's application and
status, and the organisers' decisions. Bad input is a 422 problem with a message per field path."""

from __future__ import annotations

from typing import Any, Literal, Optional

from flask import g, request
from pydantic import BaseModel, ConfigDict, Field

from app.security.ratelimit import PUBLIC_API_PER_ADDRESS, limited
from app.accounts.models import Role
from app.api import ApiProblem, json_body, parse_body, query_param, respond, route
from app.api.problems import status_of
from app.challenges.models import Challenge
from app.challenges.services import PhaseClosed, get_challenge
from app.db import get_session
from app.eligibility.application import APPLICATION_JSON_SCHEMA, ApplicationErrors, parse_application
from app.eligibility.models import EligibilityApplication
from app.eligibility.rules import RuleSet, decide
from app.eligibility.services import (
    DecisionError,
    EligibilityStatus,
    applications_of,
    confirm_experience,
    current_status,
    is_member,
    override,
    rules_for,
    submit_application,
    team_is_eligible,
)
from app.security import public, roles
from app.teams.models import Team


class CheckOut(BaseModel):
    """One rule's outcome and the reason in words."""

    model_config = ConfigDict(extra="forbid")
    rule: str
    outcome: Literal["pass", "review", "fail"]
    reason: str


class VerdictOut(BaseModel):
    """The rules' verdict on an application, with one check per rule."""

    model_config = ConfigDict(extra="allow")  # a verdict stored with an application is shown as it was stored
    status: Literal["eligible", "needs_review", "ineligible"]
    checks: list[CheckOut]


class OverrideOut(BaseModel):
    """An organiser's override of the verdict."""

    model_config = ConfigDict(extra="forbid")
    status: str
    justification: str
    at: str = Field(json_schema_extra={"format": "date-time"})


class VersionOut(BaseModel):
    """One version of the team's application."""

    model_config = ConfigDict(extra="forbid")
    id: int
    version: int
    status: str
    submitted_at: str = Field(json_schema_extra={"format": "date-time"})


class TeamEligibility(BaseModel):
    """A team's eligibility: the status, whether it may submit checkpoints and why, the verdict, every version."""

    model_config = ConfigDict(extra="forbid")  # a key status_json adds must be described here too
    team_id: int
    status: str = Field(description="not_applied, eligible, needs_review or ineligible")
    may_submit_checkpoints: bool
    reason: str
    version: Optional[int]
    verdict: Optional[VerdictOut]
    experience_confirmed: bool
    document: Optional[dict[str, Any]] = Field(description="the current application as sent")
    override: Optional[OverrideOut]
    versions: list[VersionOut]


def _invalid(exc: ApplicationErrors) -> ApiProblem:
    return ApiProblem(status_of(exc), "The application has missing or invalid fields.", errors=exc.errors)


@route(
    "/eligibility/check",
    methods=("POST",),
    tag="eligibility",
    request_schema=APPLICATION_JSON_SCHEMA,
    response_model=VerdictOut,
    summary="Check an application against a challenge's rules (?challenge=slug, default: the 2024 rules)",
    query=[query_param("challenge", "The challenge whose rules apply (its slug); default: the 2024 rules")],
)
@public
@limited(PUBLIC_API_PER_ADDRESS)
def check_eligibility():
    """No account needed: the same pure engine as `flask eligibility check FILE.json`."""
    slug = request.args.get("challenge")
    rules = RuleSet.default_2024()
    if slug:
        found = get_challenge(get_session(), slug)
        if found is None:
            raise ApiProblem(404, f"No challenge {slug!r}.")
        rules = rules_for(found)
    try:
        application = parse_application(json_body("the application"), require=rules.required_fields)
    except ApplicationErrors as exc:
        raise _invalid(exc) from None
    return respond(VerdictOut.model_validate(decide(application, rules).to_dict()))


def _visible_team(team_id: int) -> Team:
    """The team, if the caller may see it: its members, judges and organisers (404 for anyone else)."""
    session, user = get_session(), g.api_user
    team = session.get(Team, team_id)
    if team is None:
        raise ApiProblem(404, "No such team.")
    if Role(user.role) is Role.entrant and not is_member(session, team_id, user.id):
        raise ApiProblem(404, "No such team.")
    return team


def status_json(session, team: Team, state: EligibilityStatus) -> dict[str, Any]:
    """A team's eligibility as JSON: the status, the reason in words, the verdict and every version."""
    ok, reason = team_is_eligible(session, team.id)
    decided = state.override
    return {
        "team_id": team.id,
        "status": state.status,
        "may_submit_checkpoints": ok,
        "reason": reason,
        "version": state.version,
        "verdict": state.verdict,
        "experience_confirmed": state.experience_confirmed,
        "document": state.application.document if state.application else None,
        "override": None
        if decided is None
        else {"status": decided.status, "justification": decided.justification, "at": decided.at.isoformat()},
        "versions": [
            {"id": a.id, "version": a.version, "status": a.status, "submitted_at": a.submitted_at.isoformat()}
            for a in applications_of(session, team.id)
        ],
    }


def _status(session, team: Team) -> TeamEligibility:
    return TeamEligibility.model_validate(status_json(session, team, current_status(session, team.id)))


@route(
    "/teams/<int:team_id>/eligibility",
    tag="eligibility",
    response_model=TeamEligibility,
    summary="A team's eligibility: status, verdict with reasons, and every application version",
)
@roles(Role.entrant, Role.judge, Role.organiser)
def team_eligibility(team_id: int):
    """Team members, judges and organisers may read; other entrants get 404."""
    team = _visible_team(team_id)
    session = get_session()
    return respond(_status(session, team))


@route(
    "/teams/<int:team_id>/eligibility",
    methods=("POST",),
    tag="eligibility",
    request_schema=APPLICATION_JSON_SCHEMA,
    response_model=TeamEligibility,
    summary="Send a new version of the team's eligibility application",
)
@roles(Role.entrant)
def submit_team_eligibility(team_id: int):
    """A team member sends the application; every earlier version is kept."""
    team = _visible_team(team_id)
    session = get_session()
    try:
        submit_application(
            session,
            team,
            g.api_user,
            json_body("the application"),
            rules_for(session.get(Challenge, team.challenge_id)),
        )
    except ApplicationErrors as exc:
        session.rollback()
        raise _invalid(exc) from None
    except PhaseClosed:
        session.rollback()
        raise  # the shell answers it as a problem
    session.commit()
    return respond(_status(session, team), 201)


def _application(application_id: int) -> EligibilityApplication:
    found = get_session().get(EligibilityApplication, application_id)
    if found is None:
        raise ApiProblem(404, "No such application.")
    return found


def _decided(application: EligibilityApplication, decide_fn) -> Any:
    session = get_session()
    try:
        decide_fn(session)
    except DecisionError:
        session.rollback()
        raise  # the shell answers it as a problem: 409 for the state, 422 with the field for the input
    session.commit()
    team = session.get(Team, application.team_id)
    return respond(_status(session, team))


@route(
    "/eligibility/applications/<int:application_id>/confirm-experience",
    methods=("POST",),
    tag="eligibility",
    response_model=TeamEligibility,
    summary="Confirm the experience evidence of a team's current application (organisers)",
)
@roles(Role.organiser)
def confirm_application_experience(application_id: int):
    """The `experience` rule passes once an organiser confirms the evidence."""
    application = _application(application_id)
    return _decided(application, lambda s: confirm_experience(s, application, g.api_user))


class OverrideBody(BaseModel):
    """An organiser's override: the decided status and why."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["eligible", "ineligible"]
    justification: str = Field(description="Why the verdict is overridden; at least 20 characters.")


@route(
    "/eligibility/applications/<int:application_id>/override",
    methods=("POST",),
    tag="eligibility",
    request_model=OverrideBody,
    response_model=TeamEligibility,
    summary="Override the verdict of a team's current application, with a written justification (organisers)",
)
@roles(Role.organiser)
def override_application(application_id: int):
    """Only with a justification; the decision and its words go to the audit log."""
    application = _application(application_id)
    body = parse_body(OverrideBody)
    return _decided(application, lambda s: override(s, application, g.api_user, body.status, body.justification))
