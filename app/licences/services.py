"""The licence verdict of submissions: recorded at intake, resolved by an organiser, rechecked at award.

The shell around the pure engine (`verify.check_licence_dir`): it finds the challenge's `[licence]`
policy, stores what the engine decided on the `Submission` row, and leaves an audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Optional

from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.checkpoints.events import submission_accepted
from app.checkpoints.models import Submission
from app.db import utcnow
from app.errors import DomainError
from app.licences.models import LicenceResolution
from app.licences.policy import LicencePolicy, Outcome
from app.licences.verify import LicenceVerdict, check_licence_dir

MIN_JUSTIFICATION = 20
_CHUNK = 2_000  # submission ids per IN (...) list


class LicenceError(DomainError, ValueError):
    """A licence decision the platform refuses (invalid), with a message for the person and the field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field=field)
        self.field = field


def policy_of(challenge: Optional[Challenge]) -> LicencePolicy:
    """The challenge's `[licence]` policy, or the 2024 challenge's default when it has none."""
    if challenge is None:
        return LicencePolicy.default()
    policy = parse_section(config_of(challenge), "licence")
    return policy if policy is not None else LicencePolicy.default()


def _policy_for(session: Session, submission: Submission) -> LicencePolicy:
    return policy_of(session.get(Challenge, submission.challenge_id))


def record_submission_licence(session: Session, submission: Submission, directory: str | Path) -> LicenceVerdict:
    """Check the licence of a submission's files, store the verdict on it, and audit it."""
    verdict = check_licence_dir(directory, _policy_for(session, submission))
    _store(submission, verdict)
    session.add(submission)
    record(
        session,
        "licence.checked",
        "submission",
        submission.id,
        challenge_id=submission.challenge_id,
        verdict=verdict.verdict.value,
        licence=verdict.licence,
        reasons=verdict.reasons,
    )
    return verdict


def licence_verdict_now(session: Session, submission: Submission, directory: str | Path) -> LicenceVerdict:
    """What the engine decides on the submission's stored files today (nothing is stored: a preview reads)."""
    return check_licence_dir(directory, _policy_for(session, submission))


@submission_accepted.connect
def _record_on_acceptance(_sender, *, session: Session, submission: Submission, folder: Path) -> None:
    """The intake accepted a submission: its licence verdict is recorded in the same transaction."""
    record_submission_licence(session, submission, folder)


def recheck_submission_licence(session: Session, submission: Submission, directory: str | Path) -> LicenceVerdict:
    """Run the engine again on the stored files (at award time) and store the verdict; audit only when the
    verdict changed."""
    before = submission.licence_verdict
    verdict = licence_verdict_now(session, submission, directory)
    if verdict.verdict.value != before or verdict.licence != submission.licence_id:
        _store(submission, verdict)
        session.add(submission)
        record(
            session,
            "licence.verdict_changed",
            "submission",
            submission.id,
            challenge_id=submission.challenge_id,
            before=before,
            after=verdict.verdict.value,
            licence=verdict.licence,
            reasons=verdict.reasons,
        )
    return verdict


def _store(submission: Submission, verdict: LicenceVerdict) -> None:
    submission.licence_verdict = verdict.verdict.value
    submission.licence_id = (verdict.licence or "")[:200] or None
    submission.licence_reasons = verdict.reasons


def latest_resolution(session: Session, submission_id: int) -> Optional[LicenceResolution]:
    """The organiser's latest resolution of a submission's licence review, if any."""
    query = (
        select(LicenceResolution)
        .where(LicenceResolution.submission_id == submission_id)
        .order_by(LicenceResolution.at.desc(), LicenceResolution.id.desc())
    )
    return session.exec(query).first()


def verdicts_in_force(session: Session, recorded: Mapping[int, Optional[str]]) -> dict[int, Optional[str]]:
    """Submission id -> the licence verdict in force: the organiser's latest resolution of its review (by
    ``at``, then id), else ``recorded[id]`` (the verdict recorded at intake or at the last re-check).

    The one rule every reader follows (the board, the scorecards, the prize preview and award, the pages);
    one query per few thousand submissions."""
    ids = sorted(recorded)
    found = dict(recorded)
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(LicenceResolution.submission_id, LicenceResolution.outcome)
            .where(LicenceResolution.submission_id.in_(ids[start : start + _CHUNK]))
            .order_by(LicenceResolution.at, LicenceResolution.id)
        )
        for submission_id, outcome in session.exec(query):
            found[submission_id] = outcome  # in order: the latest resolution wins
    return found


def effective_verdict(session: Session, submission: Submission) -> Optional[str]:
    """The verdict in force of one submission (`verdicts_in_force`)."""
    return verdicts_in_force(session, {submission.id: submission.licence_verdict})[submission.id]


def resolve_review(
    session: Session,
    submission: Submission,
    outcome: str,
    justification: str,
    organiser_id: int,
    now: Optional[datetime] = None,
) -> LicenceResolution:
    """An organiser decides a licence review (pass or fail) with a written justification, audited."""
    if outcome not in (Outcome.PASS.value, Outcome.FAIL.value):
        raise LicenceError("The outcome must be pass or fail.", "outcome")
    text = (justification or "").strip()
    if len(text) < MIN_JUSTIFICATION:
        raise LicenceError(
            f"Write a justification of at least {MIN_JUSTIFICATION} characters: it is kept in the audit log.",
            "justification",
        )
    if submission.licence_verdict != Outcome.REVIEW.value:
        raise LicenceError("Only a submission whose licence is in review can be resolved.", "outcome")
    resolution = LicenceResolution(
        submission_id=submission.id,
        outcome=outcome,
        justification=text[:4000],
        organiser_id=organiser_id,
        at=now or utcnow(),
    )
    session.add(resolution)
    session.flush()
    record(
        session,
        "licence.resolved",
        "submission",
        submission.id,
        actor_id=organiser_id,
        challenge_id=submission.challenge_id,
        outcome=outcome,
        justification=text[:4000],
        recorded_verdict=submission.licence_verdict,
    )
    return resolution


def submissions_in_review(session: Session) -> list[Submission]:
    """Submissions whose recorded verdict is `review` and that no organiser has resolved yet."""
    resolved = select(LicenceResolution.submission_id)
    query = (
        select(Submission)
        .where(Submission.licence_verdict == Outcome.REVIEW.value)
        .where(Submission.id.not_in(resolved))
        .order_by(Submission.id)
    )
    return list(session.exec(query))
