"""Winners' release obligations: open one at the award, declare the release, accept it, mark it overdue.

A winner releases the weights (a public Hub repo at a pinned commit whose licence passes the same engine
that checked the submission) or publishes (a DOI or an arXiv id an organiser accepts), by a deadline counted
from the award date (`[licence] release_deadline_days`). Status: pending, met, overdue; overdue feeds the prize
award's forfeit step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Optional

from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.models import Challenge
from app.checkpoints.models import Submission
from app.db import utcnow
from app.licences.hub import HubError, HubRelease
from app.licences.models import ObligationKind, ObligationStatus, ReleaseObligation
from app.licences.policy import Outcome, ReleaseTerms, release_terms
from app.licences.publication import parse_publication_id
from app.licences.services import LicenceError, policy_of
from app.licences.verify import check_licence
from app.ops.steps import for_each
from app.teams.models import Team

Fetch = Callable[[str, str], HubRelease]  # (repo, revision) -> the release read from the Hub


def release_deadline(challenge: Challenge, awarded_at: datetime) -> datetime:
    """The release deadline of an award made at `awarded_at`, from the challenge's `[licence]` policy."""
    return awarded_at + timedelta(days=policy_of(challenge).release_deadline_days)


def open_obligation(
    session: Session, team: Team, submission: Submission, deadline: datetime, award_ref: Optional[str | int] = None
) -> ReleaseObligation:
    """Open (once) the release obligation of a winning team's submission; called by the award workflow."""
    ref = None if award_ref is None else str(award_ref)
    existing = session.exec(
        select(ReleaseObligation).where(
            ReleaseObligation.team_id == team.id,
            ReleaseObligation.submission_id == submission.id,
            ReleaseObligation.award_ref == ref if ref is not None else ReleaseObligation.award_ref.is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    obligation = ReleaseObligation(
        challenge_id=submission.challenge_id,
        team_id=team.id,
        submission_id=submission.id,
        award_ref=ref,
        deadline=deadline,
    )
    session.add(obligation)
    session.flush()
    record(
        session,
        "release.obligation_opened",
        "release_obligation",
        obligation.id,
        challenge_id=obligation.challenge_id,
        team_id=team.id,
        submission_id=submission.id,
        deadline=deadline.isoformat(),
        award_ref=ref,
    )
    return obligation


def _open_for_declaration(session: Session, obligation: ReleaseObligation, way: str) -> None:
    """Refuse a declaration of an obligation that is settled, or in a way the challenge does not take."""
    if obligation.status is ObligationStatus.met:
        raise LicenceError("This obligation is already met.")
    if obligation.status is ObligationStatus.overdue:
        raise LicenceError("The deadline has passed; write to the organisers.")
    ways = policy_of(session.get(Challenge, obligation.challenge_id)).release_ways
    if way not in ways:
        needed = "the weights" if ways == ("weights",) else "a publication"
        raise LicenceError(f"This challenge asks for {needed}: {release_terms_of(session, obligation).words}")


def release_terms_of(session: Session, obligation: ReleaseObligation) -> ReleaseTerms:
    """The release obligation's terms, from its challenge's `[licence]` section."""
    return release_terms(policy_of(session.get(Challenge, obligation.challenge_id)))


def standing(obligation: Optional[ReleaseObligation], now: datetime) -> str:
    """Where a team stands on its release obligation, in words (its dashboard and release page)."""
    if obligation is None:
        return "The release obligation opens when the award is confirmed."
    deadline = f"{obligation.deadline:%d %b %Y} UTC"
    if obligation.status is ObligationStatus.met:
        return f"Met on {(obligation.accepted_at or obligation.declared_at or now):%d %b %Y}. Thank you."
    if obligation.status is ObligationStatus.overdue:
        return (
            f"Overdue since {deadline}: the prize passes to the next eligible entry unless the organisers "
            "decide otherwise. Write to them."
        )
    if obligation.kind is ObligationKind.publication:
        return f"Publication {obligation.publication_id} declared: waiting for an organiser to accept it."
    if obligation.kind is ObligationKind.weights and obligation.release_verdict == Outcome.REVIEW.value:
        return f"Weights declared ({obligation.hub_repo}): their licence waits for an organiser's review."
    if obligation.kind is ObligationKind.weights and obligation.release_verdict == Outcome.FAIL.value:
        return (
            f"Weights declared ({obligation.hub_repo}), but their licence fails the check: fix the release "
            f"and declare it again by {deadline}."
        )
    days = max(0, (obligation.deadline - now).days)
    return f"Not released yet: due by {deadline} ({days} day{'s' if days != 1 else ''} left)."


def declare_weights(
    session: Session,
    obligation: ReleaseObligation,
    repo: str,
    revision: str,
    fetch: Fetch,
    actor_id: int,
    now: Optional[datetime] = None,
) -> ReleaseObligation:
    """Record the released weights: pin the revision to a commit and check its licence with the engine.

    A passing licence meets the obligation; a review waits for an organiser; a fail leaves it pending so
    the team can fix the release and declare again.
    """
    _open_for_declaration(session, obligation, "weights")
    try:
        release = fetch(repo.strip(), (revision or "main").strip())
    except HubError as exc:
        raise LicenceError(str(exc), "hub_repo") from None
    verdict = check_licence(release.files, policy_of(session.get(Challenge, obligation.challenge_id)))
    moment = now or utcnow()
    obligation.kind, obligation.publication_id = ObligationKind.weights, None
    obligation.hub_repo, obligation.hub_revision, obligation.hub_commit = release.repo, revision, release.commit
    obligation.release_verdict = verdict.verdict.value
    obligation.release_licence = (verdict.licence or "")[:200] or None
    obligation.release_reasons = verdict.reasons
    obligation.declared_at = moment
    if verdict.verdict is Outcome.PASS:
        obligation.status, obligation.accepted_at = ObligationStatus.met, moment
    session.add(obligation)
    record(
        session,
        "release.weights_declared",
        "release_obligation",
        obligation.id,
        actor_id=actor_id,
        challenge_id=obligation.challenge_id,
        repo=release.repo,
        commit=release.commit,
        verdict=verdict.verdict.value,
        licence=verdict.licence,
        reasons=verdict.reasons,
        status=obligation.status.value,
    )
    return obligation


def declare_publication(
    session: Session, obligation: ReleaseObligation, publication_id: str, actor_id: int, now: Optional[datetime] = None
) -> ReleaseObligation:
    """Record a publication (DOI or arXiv id) instead of the weights; it waits for an organiser."""
    _open_for_declaration(session, obligation, "publication")
    try:
        canonical = parse_publication_id(publication_id)
    except ValueError as exc:
        raise LicenceError(str(exc), "publication_id") from None
    obligation.kind, obligation.publication_id = ObligationKind.publication, canonical
    obligation.hub_repo = obligation.hub_revision = obligation.hub_commit = None
    obligation.release_verdict, obligation.release_licence, obligation.release_reasons = None, None, []
    obligation.declared_at = now or utcnow()
    session.add(obligation)
    record(
        session,
        "release.publication_declared",
        "release_obligation",
        obligation.id,
        actor_id=actor_id,
        challenge_id=obligation.challenge_id,
        publication_id=canonical,
    )
    return obligation


def awaiting_decision(obligation: ReleaseObligation) -> bool:
    """A declaration an organiser must accept: a publication, or weights whose licence needs review."""
    if obligation.status is ObligationStatus.met or obligation.kind is None:
        return False
    if obligation.kind is ObligationKind.publication:
        return True
    return obligation.release_verdict == Outcome.REVIEW.value


def accept_obligation(
    session: Session, obligation: ReleaseObligation, organiser_id: int, notes: str = "", now: Optional[datetime] = None
) -> ReleaseObligation:
    """An organiser accepts a declared publication (or weights in review): the obligation is met."""
    if not awaiting_decision(obligation):
        raise LicenceError("There is no declaration waiting for an organiser's acceptance.")
    moment = now or utcnow()
    before = obligation.status.value
    obligation.status, obligation.accepted_by_id, obligation.accepted_at = ObligationStatus.met, organiser_id, moment
    obligation.notes = (notes or "").strip()[:4000]
    session.add(obligation)
    record(
        session,
        "release.accepted",
        "release_obligation",
        obligation.id,
        actor_id=organiser_id,
        challenge_id=obligation.challenge_id,
        kind=obligation.kind.value,
        before=before,
        publication_id=obligation.publication_id,
        commit=obligation.hub_commit,
        notes=obligation.notes,
    )
    return obligation


def mark_overdue(session: Session, now: datetime) -> list[ReleaseObligation]:
    """Mark pending obligations past their deadline as overdue (idempotent), each with an audit event.

    A declaration made in time and waiting for an organiser is not overdue: the team did its part.
    """
    late = session.exec(
        select(ReleaseObligation).where(
            ReleaseObligation.status == ObligationStatus.pending, ReleaseObligation.deadline < now
        )
    ).all()
    marked = []

    def mark(obligation: ReleaseObligation) -> None:
        if awaiting_decision(obligation):
            return
        obligation.status = ObligationStatus.overdue
        session.add(obligation)
        record(
            session,
            "release.overdue",
            "release_obligation",
            obligation.id,
            challenge_id=obligation.challenge_id,
            team_id=obligation.team_id,
            deadline=obligation.deadline.isoformat(),
        )
        session.flush()  # inside the obligation's savepoint, so a failing row is rolled back alone
        marked.append(obligation)

    for_each(session, late, mark, what="release obligation")
    return marked


def obligations_of_team(session: Session, team_id: int) -> list[ReleaseObligation]:
    """A team's release obligations, oldest first."""
    return list(
        session.exec(
            select(ReleaseObligation).where(ReleaseObligation.team_id == team_id).order_by(ReleaseObligation.id)
        )
    )


def obligations_for_organisers(session: Session) -> tuple[list[ReleaseObligation], list[ReleaseObligation]]:
    """(overdue obligations, declarations awaiting an organiser's acceptance)."""
    rows = session.exec(
        select(ReleaseObligation)
        .where(ReleaseObligation.status != ObligationStatus.met)
        .order_by(ReleaseObligation.deadline)
    ).all()
    overdue = [o for o in rows if o.status is ObligationStatus.overdue]
    return overdue, [o for o in rows if awaiting_decision(o)]
