"""Judging services: assignments, conflicts and recusal, score sheets, the lock and the judges' scores.

Every act is an audit event. Errors are `JudgingError` with an HTTP-like status (403 recused, 404 not yours,
409 locked or conflicting, 422 invalid sheet with per-field errors) so pages and the API answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Optional

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.audit.services import record
from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.db import compare_and_set, lock_row, utcnow
from app.errors import DomainError, Kind
from app.judging.models import ConflictDeclaration, JudgeAssignment, JudgingLock, RubricScoreSheet
from app.teams.models import Team
from scoring.config import ScoringConfig
from scoring.rubric import JudgesScore, Rubric, judges_score, validate_rubric_scores

OPEN, LOCKED, PUBLISHED = "open", "locked", "published"
RECUSED = "You are recused from this entry: you declared a conflict of interest with the team."


class JudgingError(DomainError):
    """A judging act that cannot be done: its kind (not found, conflict, invalid), a message and per-field
    errors."""

    def __init__(self, kind: Kind, message: str, errors: Optional[dict[str, list[str]]] = None):
        super().__init__(message, kind=kind, errors=errors or {})


class MissingSheets(JudgingError):
    """Locking would leave assigned judges' score sheets missing: `missing` names each (judge and entry)."""

    def __init__(self, missing: list["MissingSheet"]):
        super().__init__(
            Kind.conflict,
            f"{len(missing)} score sheet(s) are missing: "
            + "; ".join(m.words for m in missing)
            + ". Lock anyway only if they will not come.",
        )
        self.missing = missing


@dataclass(frozen=True)
class MissingSheet:
    """An assigned, non-recused judge who has not scored the entry."""

    judge_id: int
    judge: str
    team_id: int
    team: str

    @property
    def key(self) -> str:
        return f"{self.judge_id}:{self.team_id}"

    @property
    def words(self) -> str:
        return f"{self.judge} has not scored {self.team}"


@dataclass(frozen=True)
class AssignedEntry:
    """An entry as a judge's dashboard lists it: the team and the judge's status on it."""

    team: Team
    status: str  # "to score" | "submitted" | "recused"
    sheet: Optional[RubricScoreSheet] = field(default=None)


def scoring_config(challenge: Challenge) -> ScoringConfig:
    """The challenge's `[scoring]` section, or the 2024 defaults when the configuration has none."""
    return parse_section(config_of(challenge), "scoring") or ScoringConfig.default_2024()


def rubric_of(challenge: Challenge) -> Rubric:
    """The judges' rubric of a challenge."""
    return scoring_config(challenge).rubric


def lock_of(session: Session, challenge: Challenge) -> Optional[JudgingLock]:
    """The challenge's judging lock, or None while judging is open."""
    return session.exec(select(JudgingLock).where(JudgingLock.challenge_id == challenge.id)).first()


def judging_state(session: Session, challenge: Challenge) -> str:
    """ "open" (judges may score), "locked" (finalised, scores locked) or "published" (scores public)."""
    lock = lock_of(session, challenge)
    if lock is None:
        return OPEN
    return PUBLISHED if lock.published_at is not None else LOCKED


def judges_scores(session: Session, challenge: Challenge, *, published_only: bool = True) -> dict[int, JudgesScore]:
    """Team id -> the judges' score over the submitted sheets of non-recused judges.

    With `published_only` (the public board) this is empty until the organisers publish judging; without it
    (organisers, prizes) the current sheets count at any state.
    """
    if published_only and judging_state(session, challenge) != PUBLISHED:
        return {}
    rubric = rubric_of(challenge)
    by_team: dict[int, list[dict]] = {}
    for sheet in sheets_of(session, challenge):
        by_team.setdefault(sheet.team_id, []).append(sheet.scores)
    scores = {}
    for team_id, sheets in by_team.items():
        valid = [s for s in sheets if not validate_rubric_scores(rubric, s)]
        score = judges_score(rubric, valid)
        if score is not None:
            scores[team_id] = score
    return scores


def sheets_of(session: Session, challenge: Challenge, team_id: Optional[int] = None) -> list[RubricScoreSheet]:
    """The submitted sheets of a challenge (of one team when given), recused judges' sheets left out."""
    query = select(RubricScoreSheet).where(RubricScoreSheet.challenge_id == challenge.id)
    if team_id is not None:
        query = query.where(RubricScoreSheet.team_id == team_id)
    recused = _recusals(session, challenge)
    return [
        s for s in session.exec(query.order_by(RubricScoreSheet.id)).all() if (s.judge_id, s.team_id) not in recused
    ]


def _recusals(session: Session, challenge: Challenge) -> set[tuple[int, int]]:
    """(judge id, team id) pairs with a declared conflict."""
    rows = session.exec(
        select(ConflictDeclaration.judge_id, ConflictDeclaration.team_id).where(
            ConflictDeclaration.challenge_id == challenge.id
        )
    ).all()
    return {(judge_id, team_id) for judge_id, team_id in rows}


def is_recused(session: Session, challenge: Challenge, judge_id: int, team_id: int) -> bool:
    """True when the judge declared a conflict with the team."""
    return (judge_id, team_id) in _recusals(session, challenge)


def assignment(session: Session, challenge: Challenge, judge_id: int, team_id: int) -> Optional[JudgeAssignment]:
    """The judge's assignment to the team, or None."""
    return session.exec(
        select(JudgeAssignment).where(
            JudgeAssignment.challenge_id == challenge.id,
            JudgeAssignment.judge_id == judge_id,
            JudgeAssignment.team_id == team_id,
        )
    ).first()


def entry_team(session: Session, challenge: Challenge, team_id: int) -> Team:
    """A non-baseline team of the challenge, or JudgingError 404."""
    team = session.get(Team, team_id)
    if team is None or team.challenge_id != challenge.id or team.is_baseline:
        raise JudgingError(Kind.not_found, "No such entry.")
    return team


def _hold(session: Session, challenge: Challenge) -> None:
    """Take the challenge's row lock: judging acts (sheets, assignments, the lock itself) take turns, so no
    sheet lands after the lock and judging is locked once however many requests ask at the same time."""
    lock_row(session, Challenge, challenge.id)


def _require_open(session: Session, challenge: Challenge) -> None:
    _hold(session, challenge)
    if judging_state(session, challenge) != OPEN:
        raise JudgingError(Kind.conflict, "Judging is finalised: scores and assignments are locked.")


def assign_judge(
    session: Session, challenge: Challenge, judge: User, team_id: int, *, actor_id: int
) -> JudgeAssignment:
    """Assign a judge to an entry (idempotent); refused for non-judges, recused judges or once locked."""
    _require_open(session, challenge)
    team = entry_team(session, challenge, team_id)
    if judge.role != Role.judge or not judge.is_active:
        raise JudgingError(Kind.invalid, "Only active judges can be assigned.", {"judge_id": ["not an active judge"]})
    if is_recused(session, challenge, judge.id, team.id):
        raise JudgingError(Kind.conflict, f"{judge.display_name} declared a conflict with {team.name} and is recused.")
    existing = assignment(session, challenge, judge.id, team.id)
    if existing is not None:
        return existing
    row = JudgeAssignment(challenge_id=challenge.id, judge_id=judge.id, team_id=team.id, assigned_by=actor_id)
    session.add(row)
    record(
        session, "judging.assigned", "team", team.id, actor_id=actor_id, challenge_id=challenge.id, judge_id=judge.id
    )
    return row


def unassign_judge(session: Session, challenge: Challenge, judge_id: int, team_id: int, *, actor_id: int) -> None:
    """Remove a judge's assignment (their sheet, if any, stays and still counts)."""
    _require_open(session, challenge)
    existing = assignment(session, challenge, judge_id, team_id)
    if existing is not None:
        session.delete(existing)
        record(
            session,
            "judging.unassigned",
            "team",
            team_id,
            actor_id=actor_id,
            challenge_id=challenge.id,
            judge_id=judge_id,
        )


def declare_conflict(
    session: Session, challenge: Challenge, judge: User, team_id: int, reason: str
) -> ConflictDeclaration:
    """Record a judge's conflict with a team: the judge is recused (assignment removed, sheet no longer counts)."""
    team = entry_team(session, challenge, team_id)
    if is_recused(session, challenge, judge.id, team.id):
        raise JudgingError(Kind.conflict, f"You already declared a conflict with {team.name}: you are recused from it.")
    reason = (reason or "").strip()
    if not reason:
        raise JudgingError(Kind.invalid, "Say briefly why.", {"reason": ["a reason is required"]})
    row = ConflictDeclaration(challenge_id=challenge.id, judge_id=judge.id, team_id=team.id, reason=reason[:2000])
    session.add(row)
    existing = assignment(session, challenge, judge.id, team.id)
    if existing is not None:
        session.delete(existing)
    record(
        session,
        "judging.conflict_declared",
        "team",
        team.id,
        actor_id=judge.id,
        challenge_id=challenge.id,
        reason=row.reason,
        assignment_removed=existing is not None,
    )
    return row


def sheet_of(session: Session, challenge: Challenge, judge_id: int, team_id: int) -> Optional[RubricScoreSheet]:
    """The judge's score sheet for the team, or None."""
    return session.exec(
        select(RubricScoreSheet).where(
            RubricScoreSheet.challenge_id == challenge.id,
            RubricScoreSheet.judge_id == judge_id,
            RubricScoreSheet.team_id == team_id,
        )
    ).first()


def require_judge_access(session: Session, challenge: Challenge, judge: User, team_id: int) -> Team:
    """The team when the judge is assigned and not recused; JudgingError 403 (saying so) when recused, 404 when
    not assigned."""
    team = entry_team(session, challenge, team_id)
    if is_recused(session, challenge, judge.id, team.id):
        raise JudgingError(Kind.forbidden, RECUSED)
    if assignment(session, challenge, judge.id, team.id) is None:
        raise JudgingError(Kind.not_found, "No such entry.")
    return team


def submit_sheet(
    session: Session, challenge: Challenge, judge: User, team_id: int, scores: dict[str, Any], notes: str = ""
) -> RubricScoreSheet:
    """Submit or revise the judge's sheet: 404 unless assigned, 409 once locked, 422 with errors per criterion."""
    team = require_judge_access(session, challenge, judge, team_id)
    _require_open(session, challenge)
    errors = sheet_errors(rubric_of(challenge), scores)
    if errors:
        raise JudgingError(Kind.invalid, "The score sheet has problems.", errors)
    sheet = sheet_of(session, challenge, judge.id, team.id)
    first = sheet is None
    if first:
        sheet = RubricScoreSheet(challenge_id=challenge.id, judge_id=judge.id, team_id=team.id)
    sheet.scores, sheet.notes, sheet.updated_at = dict(scores), (notes or "")[:20000], utcnow()
    session.add(sheet)
    record(
        session,
        "judging.sheet_submitted" if first else "judging.sheet_revised",
        "team",
        team.id,
        actor_id=judge.id,
        challenge_id=challenge.id,
        scores=dict(scores),
    )
    return sheet


def sheet_errors(rubric: Rubric, scores: dict[str, Any]) -> dict[str, list[str]]:
    """`validate_rubric_scores` as errors per field (criterion id -> messages)."""
    errors: dict[str, list[str]] = {}
    for problem in validate_rubric_scores(rubric, scores):
        key, _, message = problem.partition(": ")
        errors.setdefault(key, []).append(message or problem)
    return errors


def missing_sheets(session: Session, challenge: Challenge) -> list[MissingSheet]:
    """Every assignment without a score sheet (recused judges have no assignment), by team then judge."""
    sheets = {
        (s.judge_id, s.team_id)
        for s in session.exec(select(RubricScoreSheet).where(RubricScoreSheet.challenge_id == challenge.id)).all()
    }
    rows = session.exec(
        select(JudgeAssignment, User, Team)
        .join(User, User.id == JudgeAssignment.judge_id)
        .join(Team, Team.id == JudgeAssignment.team_id)
        .where(JudgeAssignment.challenge_id == challenge.id)
    ).all()
    missing = [
        MissingSheet(judge.id, judge.display_name, team.id, team.name)
        for row, judge, team in rows
        if (row.judge_id, row.team_id) not in sheets
    ]
    return sorted(missing, key=lambda m: (m.team, m.judge, m.team_id, m.judge_id))


def finalise(
    session: Session, challenge: Challenge, *, actor_id: int, accept_missing: Collection[str] = ()
) -> JudgingLock:
    """Lock judging: no more sheets, revisions, assignments. 409 when already locked, and `MissingSheets`
    while a sheet is missing that the organiser did not accept (`accept_missing`: "judge id:team id" keys)."""
    _hold(session, challenge)
    if lock_of(session, challenge) is not None:
        raise JudgingError(Kind.conflict, "Judging is already finalised.")
    missing = missing_sheets(session, challenge)
    if any(m.key not in set(accept_missing) for m in missing):
        raise MissingSheets(missing)
    lock = JudgingLock(challenge_id=challenge.id, locked_by=actor_id)
    session.add(lock)
    record(
        session,
        "judging.locked",
        "challenge",
        challenge.id,
        actor_id=actor_id,
        challenge_id=challenge.id,
        sheets=len(sheets_of(session, challenge)),
        missing_sheets=[m.key for m in missing],
    )
    return lock


def publish(session: Session, challenge: Challenge, *, actor_id: int) -> JudgingLock:
    """Publish the locked judges' scores (the public board then shows them). 409 unless locked, not yet published."""
    lock = lock_of(session, challenge)
    if lock is None:
        raise JudgingError(Kind.conflict, "Finalise judging before publishing it.")
    if not compare_and_set(
        session, JudgingLock, lock.id, {"published_at": None}, {"published_at": utcnow(), "published_by": actor_id}
    ):
        raise JudgingError(Kind.conflict, "Judging is already published.")
    record(session, "judging.published", "challenge", challenge.id, actor_id=actor_id, challenge_id=challenge.id)
    return lock


def entry_teams(session: Session, challenge: Challenge) -> list[Team]:
    """The challenge's entries (teams that are not baselines), by name."""
    return list(
        session.exec(
            select(Team)
            .where(Team.challenge_id == challenge.id, Team.is_baseline == False)  # noqa: E712
            .order_by(Team.name)
        ).all()
    )
