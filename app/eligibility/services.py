"""Storing applications, working out a team's current eligibility, and the organisers' decisions.

The verdict itself comes from the pure engine (`rules.decide`); this module gathers its inputs (the stored
document, the challenge's rule set, whether an organiser confirmed the experience evidence) and persists
what was decided, with an audit event for every decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlmodel import Session, select

from app.accounts.models import User
from app.audit.services import record
from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of, require_phase
from app.db import lock_row
from app.eligibility.application import ApplicationErrors, application_to_dict, parse_application
from app.eligibility.models import EligibilityApplication, EligibilityDecision
from app.eligibility.rules import RuleSet, Verdict, decide
from app.errors import DomainError, Kind
from app.teams.models import Team, TeamMembership

MIN_JUSTIFICATION = 20
OVERRIDE_STATUSES = ("eligible", "ineligible")
STATUS_WORDS = {
    "not_applied": "not applied yet",
    "eligible": "eligible",
    "needs_review": "waiting for review",
    "ineligible": "not eligible",
}


class DecisionError(DomainError, ValueError):
    """An organiser's decision that cannot be taken: invalid input names its field; without one, the state
    does not allow it (a conflict: a newer version, already confirmed, ...)."""

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message, kind=Kind.invalid if field_name else Kind.conflict, field=field_name)


@dataclass(frozen=True)
class EligibilityStatus:
    """A team's eligibility now: the status, the verdict behind it, and any organiser decisions."""

    status: str
    verdict: Optional[dict[str, Any]] = None
    application: Optional[EligibilityApplication] = None
    experience_confirmed: bool = False
    override: Optional[EligibilityDecision] = None
    checks: list[dict[str, str]] = field(default_factory=list)

    @property
    def version(self) -> Optional[int]:
        """The version of the application the status rests on."""
        return None if self.application is None else self.application.version

    @property
    def reasons(self) -> list[str]:
        """The reasons for the status, each check's and the override's justification last."""
        reasons = [c["reason"] for c in self.checks]
        if self.override is not None:
            reasons.append(f"An organiser decided: {self.override.justification}")
        return reasons

    @property
    def experience_awaiting(self) -> bool:
        """True when the experience evidence waits for an organiser and no override settled the matter."""
        return self.override is None and any(
            c["rule"] == "experience" and c["outcome"] == "review" for c in self.checks
        )

    @property
    def words(self) -> str:
        """The status in a founder's words."""
        return STATUS_WORDS.get(self.status, self.status)


def rules_for(challenge: Challenge) -> RuleSet:
    """The challenge's eligibility rule set (its `[eligibility]` section), or the 2024 rules when absent."""
    rules = parse_section(config_of(challenge), "eligibility")
    return rules if rules is not None else RuleSet.default_2024()


def is_member(session: Session, team_id: int, user_id: int) -> bool:
    """True when the person belongs to the team."""
    return (
        session.exec(
            select(TeamMembership.id).where(TeamMembership.team_id == team_id, TeamMembership.user_id == user_id)
        ).first()
        is not None
    )


def applications_of(session: Session, team_id: int) -> list[EligibilityApplication]:
    """Every version of the team's application, newest first."""
    return list(
        session.exec(
            select(EligibilityApplication)
            .where(EligibilityApplication.team_id == team_id)
            .order_by(EligibilityApplication.version.desc())
        ).all()
    )


def latest_application(session: Session, team_id: int) -> Optional[EligibilityApplication]:
    """The team's newest application version, if any."""
    return session.exec(
        select(EligibilityApplication)
        .where(EligibilityApplication.team_id == team_id)
        .order_by(EligibilityApplication.version.desc())
    ).first()


def decisions_of(session: Session, team_id: int) -> list[EligibilityDecision]:
    """Every organiser decision on the team's applications, newest first."""
    return list(
        session.exec(
            select(EligibilityDecision)
            .where(EligibilityDecision.team_id == team_id)
            .order_by(EligibilityDecision.id.desc())
        ).all()
    )


def _experience_confirmed(session: Session, application: EligibilityApplication) -> bool:
    """Confirmed evidence stays confirmed in later versions as long as its text is unchanged."""
    evidence = application.document.get("large_scale_ai_experience", "")
    confirmed = session.exec(
        select(EligibilityApplication)
        .join(EligibilityDecision, EligibilityDecision.application_id == EligibilityApplication.id)
        .where(
            EligibilityApplication.team_id == application.team_id, EligibilityDecision.kind == "experience_confirmed"
        )
    ).all()
    return any(a.document.get("large_scale_ai_experience", "") == evidence for a in confirmed)


def _verdict_now(session: Session, application: EligibilityApplication, confirmed: bool) -> dict[str, Any]:
    """The latest version's verdict under the challenge's current rules; the stored one if it no longer parses."""
    rules = rules_for(session.get(Challenge, application.challenge_id))
    try:
        parsed = parse_application(application.document, require=rules.required_fields)
    except ApplicationErrors:
        return application.verdict
    return decide(parsed, rules, experience_confirmed=confirmed).to_dict()


def current_status(session: Session, team_id: int) -> EligibilityStatus:
    """The team's status: the latest version's verdict with confirmed evidence, unless an organiser overrode it."""
    application = latest_application(session, team_id)
    if application is None:
        return EligibilityStatus("not_applied")
    confirmed = _experience_confirmed(session, application)
    verdict = _verdict_now(session, application, confirmed)
    override = session.exec(
        select(EligibilityDecision)
        .where(EligibilityDecision.application_id == application.id, EligibilityDecision.kind == "override")
        .order_by(EligibilityDecision.id.desc())
    ).first()
    status = override.status if override is not None else verdict["status"]
    return EligibilityStatus(status, verdict, application, confirmed, override, list(verdict["checks"]))


def team_is_eligible(session: Session, team_id: int) -> tuple[bool, str]:
    """The gate for checkpoint intake: whether the team may submit, and why not in a founder's words."""
    state = current_status(session, team_id)
    if state.status == "eligible":
        return True, "Your team is eligible."
    if state.status == "not_applied":
        return False, "Your team has not sent its eligibility application yet: fill it in on the Eligibility page."
    if state.status == "needs_review":
        return False, "Your eligibility application is waiting for an organiser's review."
    if state.override is not None:
        return False, f"An organiser found your team not eligible: {state.override.justification}"
    failed = [c["reason"] for c in state.checks if c["outcome"] == "fail"]
    return False, "Your team is not eligible: " + (" ".join(failed) or "see the Eligibility page.")


def submit_application(
    session: Session, team: Team, user: User, data: object, rules: RuleSet, now: Optional[datetime] = None
) -> EligibilityApplication:
    """Store a new version of the team's application while the challenge's phases allow applying (raises
    `PhaseClosed` otherwise, before anything is read or written; `ApplicationErrors` for bad input)."""
    require_phase(session.get(Challenge, team.challenge_id), "apply", now)
    parsed = parse_application(data, require=rules.required_fields)
    lock_row(session, Team, team.id)  # versions are numbered in turn, even for applications sent at once
    previous = latest_application(session, team.id)
    application = EligibilityApplication(
        team_id=team.id,
        challenge_id=team.challenge_id,
        version=(previous.version + 1) if previous else 1,
        document=application_to_dict(parsed),
        verdict={},
        status="",
        submitted_by=user.id,
    )
    confirmed = _experience_confirmed(session, application)
    verdict: Verdict = decide(parsed, rules, experience_confirmed=confirmed)
    application.verdict, application.status = verdict.to_dict(), verdict.status
    session.add(application)
    session.flush()
    record(
        session,
        "eligibility.application_submitted",
        "team",
        team.id,
        actor_id=user.id,
        challenge_id=team.challenge_id,
        application_id=application.id,
        version=application.version,
        verdict=verdict.status,
    )
    return application


def _latest_or_refuse(session: Session, application: EligibilityApplication) -> None:
    """Take the team's lock (decisions on one team are taken in turn, each seeing the one before), then
    refuse a decision on a version that is no longer the team's current one."""
    lock_row(session, Team, application.team_id)
    latest = latest_application(session, application.team_id)
    if latest is None or latest.id != application.id:
        raise DecisionError(
            f"Version {application.version} is no longer current: the team has sent version "
            f"{latest.version if latest else '?'}; decide on that one."
        )


def confirm_experience(session: Session, application: EligibilityApplication, organiser: User) -> EligibilityDecision:
    """An organiser confirms the experience evidence of the team's current application version."""
    _latest_or_refuse(session, application)
    if not application.document.get("large_scale_ai_experience", "").strip():
        raise DecisionError("This application gives no evidence of experience to confirm.")
    if _experience_confirmed(session, application):
        raise DecisionError("The experience evidence of this application is already confirmed.")
    decision = EligibilityDecision(
        application_id=application.id,
        team_id=application.team_id,
        kind="experience_confirmed",
        status="confirmed",
        organiser_id=organiser.id,
    )
    session.add(decision)
    session.flush()
    state = current_status(session, application.team_id)
    record(
        session,
        "eligibility.experience_confirmed",
        "team",
        application.team_id,
        actor_id=organiser.id,
        challenge_id=application.challenge_id,
        application_id=application.id,
        version=application.version,
        status=state.status,
    )
    return decision


def override(
    session: Session, application: EligibilityApplication, organiser: User, status: str, justification: str
) -> EligibilityDecision:
    """An organiser overrides the verdict of the current version; only with a written justification."""
    justification = (justification or "").strip()
    if status not in OVERRIDE_STATUSES:
        raise DecisionError("Choose eligible or ineligible.", "status")
    if len(justification) < MIN_JUSTIFICATION:
        raise DecisionError(
            f"Write a justification of at least {MIN_JUSTIFICATION} characters: the team and "
            "the audit log will read it.",
            "justification",
        )
    _latest_or_refuse(session, application)
    overrides = [
        d
        for d in decisions_of(session, application.team_id)
        if d.kind == "override" and d.application_id == application.id
    ]
    if overrides and (overrides[0].status, overrides[0].justification) == (status, justification):  # newest first
        raise DecisionError(f"This override ({status}, with these words) is already recorded.")
    decision = EligibilityDecision(
        application_id=application.id,
        team_id=application.team_id,
        kind="override",
        status=status,
        justification=justification,
        organiser_id=organiser.id,
    )
    session.add(decision)
    session.flush()
    record(
        session,
        "eligibility.overridden",
        "team",
        application.team_id,
        actor_id=organiser.id,
        challenge_id=application.challenge_id,
        application_id=application.id,
        version=application.version,
        status=status,
        justification=justification,
    )
    return decision


def review_queue(session: Session, challenge_id: Optional[int] = None) -> list[tuple[Team, EligibilityStatus]]:
    """Teams whose current application waits for an organiser: needs_review, or experience unconfirmed."""
    query = select(Team).join(EligibilityApplication, EligibilityApplication.team_id == Team.id).distinct()
    if challenge_id is not None:
        query = query.where(Team.challenge_id == challenge_id)
    pending = []
    for team in session.exec(query.order_by(Team.id)).all():
        state = current_status(session, team.id)
        if state.status == "needs_review" or state.experience_awaiting:
            pending.append((team, state))
    return pending
