"""Starting submissions and finding them: the eligibility gate, the per-team limits under a lock, and who may
see which submission. The files themselves are handled by `uploads.py`, `intake.py` and `hub.py`."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Optional

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.audit.services import record
from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import PhaseClosed, config_of, require_phase
from app.checkpoints.limits import SubmissionLimits, limit_problem, size_problem
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus, Upload
from app.checkpoints.storage import Storage
from app.db import compare_and_set, lock_row, utcnow
from app.errors import DomainError, Kind
from app.settings import Settings
from app.teams.models import Team
from app.teams.services import no_team_reason, team_ids_of, team_of
from app.visible import hidden_character_problem
from scoring.units import exact_bytes

MAX_LABEL = 120
STATUS_WORDS = {
    SubmissionStatus.receiving: "still receiving its files",
    SubmissionStatus.validating: "finalised and its files are being checked",
    SubmissionStatus.accepted: "accepted",
    SubmissionStatus.rejected: "refused",
}


class IntakeError(DomainError, ValueError):
    """A request about a submission that cannot be granted: its kind, the reason, the field at fault."""

    def __init__(self, kind: Kind, message: str, field: str | None = None):
        super().__init__(message, kind=kind, field=field)


def limits_of(challenge: Challenge) -> SubmissionLimits:
    """The challenge's `[limits]`, or the defaults when it has none."""
    return parse_section(config_of(challenge), "limits") or SubmissionLimits()


def storage_of(settings: Settings) -> Storage:
    return Storage(settings.storage_dir)


def create_submission(
    session: Session,
    user: User,
    challenge: Challenge,
    label: str,
    *,
    source: SubmissionSource = SubmissionSource.upload,
    now: datetime | None = None,
    baseline: Team | None = None,
    **fields,
) -> Submission:
    """Start a submission for the caller's team, if the challenge's phases allow submitting now, the team
    is eligible and within its limits; or, for an organiser, for a `baseline` team (organisers' reference
    models need neither the phase nor eligibility).

    The team's row is locked before the counts are read, so two concurrent requests cannot both slip
    under a limit; the caller commits (which releases the lock).
    """
    now = now or utcnow()
    if baseline is None:
        submissions_open(challenge, now)
    label = " ".join((label or "").split())
    if not 1 <= len(label) <= MAX_LABEL:
        raise IntakeError(Kind.invalid, f"Give the submission a label of 1 to {MAX_LABEL} characters.", "label")
    hidden = hidden_character_problem(label, "The label")
    if hidden:
        raise IntakeError(Kind.invalid, hidden, "label")
    team = baseline if baseline is not None else _entrant_team(session, user, challenge)
    if baseline is not None and not (
        baseline.is_baseline and Role(user.role) is Role.organiser and baseline.challenge_id == challenge.id
    ):
        raise IntakeError(Kind.forbidden, "Only organisers submit checkpoints for baseline teams.")
    lock_team(session, team.id)
    problem = limit_problem(limits_of(challenge), *count_submissions(session, team.id, now))
    if problem is not None:
        raise IntakeError(Kind.too_many, problem)
    submission = Submission(
        challenge_id=challenge.id,
        team_id=team.id,
        submitted_by_id=user.id,
        label=label,
        source=source,
        created_at=now,
        **fields,
    )
    session.add(submission)
    session.flush()
    record(
        session,
        "submission.created",
        "submission",
        submission.id,
        actor_id=user.id,
        challenge_id=challenge.id,
        team_id=team.id,
        label=label,
        source=source.value,
    )
    return submission


def submissions_open(challenge: Challenge, now: datetime | None = None) -> None:
    """Refuse an entrant's new submission or new file (409) unless the phases allow submitting now."""
    try:
        require_phase(challenge, "submit", now)
    except PhaseClosed as closed:
        raise IntakeError(closed.kind, closed.message) from None


def _entrant_team(session: Session, user: User, challenge: Challenge) -> Team:
    """The caller's team, which must be eligible to submit."""
    from app.eligibility.services import team_is_eligible

    team = team_of(session, user, challenge.id)
    if team is None:
        raise IntakeError(Kind.forbidden, no_team_reason(challenge, "you can submit checkpoints once it is eligible"))
    eligible, reason = team_is_eligible(session, team.id)
    if not eligible:
        raise IntakeError(Kind.forbidden, reason)
    return team


def lock_team(session: Session, team_id: int) -> None:
    """Take the team's row lock for the rest of the transaction (`app.db.lock_row`), before anything is
    counted: on SQLite, as the transaction's first write, it takes the database's write lock."""
    lock_row(session, Team, team_id)


def claim(
    session: Session, submission: Submission, expected: SubmissionStatus | tuple[SubmissionStatus, ...], **changes
) -> None:
    """Change the submission only if its status is still `expected` (a compare-and-set whose lock lasts
    until the caller commits); without `changes`, only lock it while it has that status. Of several
    requests racing for the same change one wins; the others get IntakeError 409 with the status now."""
    if not compare_and_set(session, Submission, submission.id, {"status": expected}, changes or None):
        now = session.scalar(select(Submission.status).where(Submission.id == submission.id))
        raise IntakeError(
            Kind.conflict, f"This submission is already {STATUS_WORDS.get(now, now)}; its files can no longer change."
        )


def count_submissions(session: Session, team_id: int, now: datetime) -> tuple[int, int]:
    """The team's submissions that count against its limits (all but refused ones): today (UTC), in all."""
    counted = (
        select(func.count())
        .select_from(Submission)
        .where(Submission.team_id == team_id, Submission.status != SubmissionStatus.rejected)
    )
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    today = session.exec(counted.where(Submission.created_at >= midnight)).one()
    return today, session.exec(counted).one()


def visible_submission(session: Session, user: User, submission_id: int) -> Optional[Submission]:
    """The submission if the caller may see it (organisers: all; entrants: their team's), else None."""
    submission = session.get(Submission, submission_id)
    if submission is None or user is None:
        return None
    if Role(user.role) is Role.organiser:
        return submission
    if Role(user.role) is Role.entrant and submission.team_id in team_ids_of(session, user):
        return submission
    return None


def own_receiving_submission(session: Session, user: User, submission_id: int) -> Submission:
    """The caller's own team's submission that still accepts files (404 / 409 otherwise)."""
    submission = session.get(Submission, submission_id)
    if submission is None or not _may_write(session, user, submission):
        raise IntakeError(Kind.not_found, "There is no such submission in your team.")
    if submission.source != SubmissionSource.upload:
        raise IntakeError(
            Kind.conflict, "This submission's files come from the Hugging Face Hub; nothing is uploaded to it."
        )
    if submission.status != SubmissionStatus.receiving:
        raise IntakeError(
            Kind.conflict,
            f"This submission is already {STATUS_WORDS[submission.status]}; its files can no longer change.",
        )
    return submission


def _may_write(session: Session, user: User, submission: Submission) -> bool:
    """Team members write their team's submissions; organisers write baseline teams' submissions."""
    if Role(user.role) is Role.organiser:
        team = session.get(Team, submission.team_id)
        return team is not None and team.is_baseline
    return submission.team_id in team_ids_of(session, user)


def submissions_for(session: Session, user: User, challenge: Challenge) -> list[Submission]:
    """The submissions the caller may list in a challenge, newest first."""
    query = select(Submission).where(Submission.challenge_id == challenge.id)
    if Role(user.role) != Role.organiser:
        team = team_of(session, user, challenge.id)
        if team is None:
            return []
        query = query.where(Submission.team_id == team.id)
    return list(session.exec(query.order_by(Submission.id.desc())).all())


def uploads_of(session: Session, submission_id: int) -> list[Upload]:
    """The submission's uploads (its files while they arrive), by file name."""
    return list(
        session.exec(select(Upload).where(Upload.submission_id == submission_id).order_by(Upload.filename)).all()
    )


def submission_json(submission: Submission, uploads: list[Upload] | None = None) -> dict:
    """The API's view of a submission."""
    body = {
        "id": submission.id,
        "label": submission.label,
        "source": submission.source.value,
        "status": submission.status.value,
        "created_at": submission.created_at.isoformat(),
        "accepted_at": submission.accepted_at.isoformat() if submission.accepted_at else None,
        "parameters": submission.parameters,
        "dtypes": submission.dtypes,
        "total_bytes": submission.total_bytes,
        "files": submission.manifest,
        "findings": submission.findings,
        "hub_repo": submission.hub_repo,
        "hub_revision": submission.hub_revision,
        "hub_commit": submission.hub_commit,
        "licence": {
            "verdict": submission.licence_verdict,
            "id": submission.licence_id,
            "reasons": submission.licence_reasons,
        },
    }
    if uploads is not None:
        body["uploads"] = [
            {"id": u.id, "filename": u.filename, "length": u.length, "offset": u.offset} for u in uploads
        ]
    return body


def start_hub_submission(
    session: Session,
    settings: Settings,
    user: User,
    challenge: Challenge,
    label: str,
    repo: str,
    revision: str,
    token: str | None,
) -> Submission:
    """A submission by reference: pin the revision to its commit now; the scheduler downloads it later.
    Refused (409) before the Hub is asked when the phases do not allow submitting now."""
    from app.checkpoints import hub

    submissions_open(challenge)
    problems = hub.check_reference(repo.strip(), revision.strip())
    if problems:
        raise IntakeError(Kind.invalid, problems[0][1], problems[0][0])
    snapshot = hub.resolve(repo.strip(), revision.strip(), token or None, settings.hub_endpoint)
    if not snapshot.files:
        raise IntakeError(Kind.invalid, f"{repo} at {revision} holds no file a checkpoint may contain.", "hub_repo")
    total = sum(size for _, size in snapshot.files)
    maximum = limits_of(challenge).max_bytes_per_submission
    if total > maximum:
        raise IntakeError(
            Kind.too_large, f"The accepted files hold {exact_bytes(total)}, over the limit of {exact_bytes(maximum)}."
        )
    return create_submission(
        session,
        user,
        challenge,
        label,
        source=SubmissionSource.hub,
        hub_repo=repo.strip(),
        hub_revision=revision.strip(),
        hub_commit=snapshot.commit,
        manifest=[{"name": name, "bytes": size, "sha256": None} for name, size in snapshot.files],
        findings={"errors": [], "warnings": list(snapshot.skipped)},
        hub_token_encrypted=hub.encrypt_token(settings, token) if token else None,
    )


def start_upload(
    session: Session,
    settings: Settings,
    user: User,
    submission: Submission,
    filename: str,
    length: int,
    declared_sha256: str | None,
) -> Upload:
    """Open one file's upload: check the phase, the size limit and the name under the team's lock, then
    create the row and the empty part file, and commit. `filename` must already have passed `check_filename`.

    The phase is checked here, when the file's upload is created, and nowhere after: an upload created while
    submissions were open may receive its chunks (PATCH) and its submission may be finalised after the
    close, so a large file begun before the deadline is not lost; a new file after the close is refused.
    Baseline teams' files (organisers' reference models) are exempt."""
    challenge = session.get(Challenge, submission.challenge_id)
    team = session.get(Team, submission.team_id)
    if team is None or not team.is_baseline:
        submissions_open(challenge)
    limits = limits_of(challenge)
    lock_team(session, submission.team_id)
    held = session.exec(
        select(func.coalesce(func.sum(Upload.length), 0)).where(Upload.submission_id == submission.id)
    ).one()
    too_big = size_problem(limits, int(held), length)
    if too_big is not None:
        raise IntakeError(Kind.too_large, too_big)
    taken = f"{filename!r} is already being uploaded to this submission: resume it, or terminate it (DELETE) first"
    if (
        session.exec(
            select(Upload.id).where(Upload.submission_id == submission.id, Upload.filename == filename)
        ).first()
        is not None
    ):
        raise IntakeError(Kind.conflict, taken)
    upload = Upload(
        id=secrets.token_hex(16),
        submission_id=submission.id,
        team_id=submission.team_id,
        created_by_id=user.id,
        filename=filename,
        length=length,
        declared_sha256=declared_sha256,
        expires_at=utcnow() + timedelta(hours=limits.upload_expiry_hours),
    )
    store = storage_of(settings)
    store.create_part(upload.id)
    session.add(upload)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        store.remove_part(upload.id)
        raise IntakeError(Kind.conflict, taken) from None
    return upload
