"""The award workflow: confirm, record a forfeit, re-run, publish, and the organisers' tie-break decision.

Every act appends a record to the challenge's award chain (`app.prizes.records`) and an audit event, in the
caller's transaction (the caller commits). A confirmation must match the preview the organiser looked at:
it carries that preview's fingerprint, and a preview that changed in between is refused.

Publishing order (`publish_blockers`): the award may be confirmed once judging is locked, but published only
once the judges' scores are, so the public winners page and the leaderboard (which shows final scores only
once judging is published) always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Sequence

from sqlmodel import Session

from app.accounts.models import User
from app.audit.services import record
from app.challenges.models import Challenge
from app.checkpoints.models import Submission
from app.errors import Kind
from app.judging.services import PUBLISHED, judging_state
from app.licences.obligations import open_obligation, release_deadline
from app.prizes.models import AwardRecord, PrizeTieBreak
from app.prizes.preview import Preview, candidates_from_snapshot, compute_preview
from app.prizes.records import (
    PrizeError,
    append,
    chain_of,
    current_award,
    forfeit_records,
    hold_chain,
    published_award,
)
from app.prizes.services import (
    forfeited_teams,
    overdue_teams,
    preview_state,
    prize_rules,
    record_licence_rechecks,
    refreshed,
    reproduction_gate,
)
from app.settings import Settings
from app.teams.models import Team

MIN_REASON = 20


@dataclass(frozen=True)
class Rerun:
    """A re-run's preview and the forfeits it settles (team id -> reason)."""

    preview: Preview
    forfeits: dict[int, str]
    previous: AwardRecord

    @property
    def named_forfeits(self) -> list[tuple[str, str]]:
        """(team name, reason) of each forfeiting winner."""
        names = {a["team_id"]: a["team"] for a in self.previous.payload["awards"]}
        return [(names.get(t, f"team {t}"), reason) for t, reason in sorted(self.forfeits.items())]


def confirm(
    session: Session, challenge: Challenge, settings: Settings, actor: User, fingerprint: str, now: datetime
) -> AwardRecord:
    """Record the award the organiser previewed and open each winner's release obligation."""
    hold_chain(session, challenge)
    if current_award(chain_of(session, challenge.id)) is not None:
        raise PrizeError(Kind.conflict, "The prize is already awarded; after a forfeit, re-run the award instead.")
    state = preview_state(session, challenge, settings, now)
    if state.missing:
        raise PrizeError(Kind.conflict, " ".join(state.missing))
    preview = _usable(state.preview, fingerprint)
    _record_rechecks(session, settings, preview)
    body = {
        **preview.payload,
        "judging": state.judging,
        "as_of": state.frozen_at.isoformat(),
        "confirmed_by": actor.email,
        "confirmed_at": now.isoformat(),
    }
    row = append(session, challenge, "award", body, actor, now)
    _open_obligations(session, challenge, row, now)
    record(
        session,
        "prize.awarded",
        "award_record",
        row.sequence,
        actor_id=actor.id,
        challenge_id=challenge.id,
        hash=row.hash,
        winners=[a["team"] for a in row.payload["awards"]],
    )
    return row


def _usable(preview: Optional[Preview], fingerprint: str) -> Preview:
    """The preview, unless it is refused or differs from the one the organiser confirmed."""
    if preview is None or preview.refused:
        raise PrizeError(Kind.conflict, preview.refused if preview else "There is nothing to confirm yet.")
    if not preview.winners:
        raise PrizeError(Kind.conflict, "No entry meets the conditions: there is no winner to confirm.")
    if fingerprint != preview.fingerprint:
        raise PrizeError(
            Kind.conflict,
            "The inputs changed since you opened the preview (a ranking, eligibility, "
            "licence or forfeit); review the new preview and confirm again.",
            "fingerprint",
        )
    return preview


def _record_rechecks(session: Session, settings: Settings, preview: Preview) -> None:
    """Store the licence verdicts the confirmed preview re-checked (a preview itself only reads)."""
    record_licence_rechecks(
        session, settings, [c["submission_id"] for c in preview.payload["ranking"] if not c["is_baseline"]]
    )


def _open_obligations(session: Session, challenge: Challenge, award: AwardRecord, now: datetime) -> None:
    """Open the release obligation of each winner that does not have one for its submission yet."""
    deadline = release_deadline(challenge, now)
    for item in award.payload["awards"]:
        team, submission = session.get(Team, item["team_id"]), session.get(Submission, item["submission_id"])
        if team is not None and submission is not None:
            open_obligation(session, team, submission, deadline, award_ref=f"{challenge.slug}#{award.sequence}")


def record_forfeit(
    session: Session,
    challenge: Challenge,
    actor: Optional[User],
    team_id: int,
    reason: str,
    now: datetime,
    cause: str = "disqualified",
) -> AwardRecord:
    """Record that a team forfeits the prize (disqualified with a written reason, or release overdue)."""
    hold_chain(session, challenge)
    team = session.get(Team, team_id)
    if team is None or team.challenge_id != challenge.id:
        raise PrizeError(Kind.not_found, "No such team in this challenge.", "team_id")
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise PrizeError(
            Kind.invalid,
            f"Write a reason of at least {MIN_REASON} characters: it is kept in the award history.",
            "reason",
        )
    rows = chain_of(session, challenge.id)
    if team_id in forfeit_records(rows):
        raise PrizeError(Kind.conflict, f"{team.name} has already forfeited.", "team_id")
    award = current_award(rows)
    row = append(
        session,
        challenge,
        "forfeit",
        {
            "team_id": team.id,
            "team": team.name,
            "cause": cause,
            "reason": text[:2000],
            "award_sequence": award.sequence if award else None,
        },
        actor,
        now,
    )
    record(
        session,
        "prize.forfeited",
        "team",
        team.id,
        actor_id=actor.id if actor else None,
        challenge_id=challenge.id,
        cause=cause,
        reason=text[:2000],
        sequence=row.sequence,
    )
    return row


def rerun_preview(session: Session, challenge: Challenge, settings: Settings) -> Optional[Rerun]:
    """The re-run a forfeit calls for, or None when no winner of the award in force has forfeited.

    It starts from the ranking snapshot the award recorded (a board that moved since changes nothing) and
    the same policy and tie-break; eligibility, licences and forfeits are read again.
    """
    previous = current_award(chain_of(session, challenge.id))
    if previous is None:
        return None
    forfeits = forfeited_teams(session, challenge)
    winners = {a["team_id"] for a in previous.payload["awards"]}
    if not winners & set(forfeits):
        return None
    candidates = refreshed(session, settings, candidates_from_snapshot(previous.payload["ranking"]), forfeits)
    preview = compute_preview(candidates, prize_rules(challenge), previous.payload.get("tie_break") or ())
    as_of = previous.payload.get("as_of")
    preview = reproduction_gate(session, challenge, preview, datetime.fromisoformat(as_of) if as_of else None)
    return Rerun(preview, {t: r for t, r in forfeits.items() if t in winners}, previous)


def rerun(
    session: Session, challenge: Challenge, settings: Settings, actor: User, fingerprint: str, now: datetime
) -> AwardRecord:
    """Re-run the award after a forfeit: the prize passes to the next eligible entry, chained to the last award."""
    hold_chain(session, challenge)
    plan = rerun_preview(session, challenge, settings)
    if plan is None:
        raise PrizeError(Kind.conflict, "No winner of the award in force has forfeited: there is nothing to re-run.")
    preview = _usable(plan.preview, fingerprint)
    _record_rechecks(session, settings, preview)
    recorded = forfeit_records(chain_of(session, challenge.id))
    overdue = overdue_teams(session, challenge)
    for team_id in sorted(set(plan.forfeits) - set(recorded)):
        record_forfeit(
            session,
            challenge,
            None,
            team_id,
            plan.forfeits[team_id],
            now,
            cause="release_overdue" if team_id in overdue else "disqualified",
        )
    previous = plan.previous
    body = {
        **preview.payload,
        "previous_sequence": previous.sequence,
        "previous_hash": previous.hash,
        "forfeited": [{"team_id": t, "reason": r} for t, r in sorted(plan.forfeits.items())],
        "as_of": previous.payload.get("as_of"),
        "confirmed_by": actor.email,
        "confirmed_at": now.isoformat(),
    }
    was_public = published_award(chain_of(session, challenge.id)) is previous
    row = append(session, challenge, "rerun", body, actor, now)
    _open_obligations(session, challenge, row, now)
    record(
        session,
        "prize.rerun",
        "award_record",
        row.sequence,
        actor_id=actor.id,
        challenge_id=challenge.id,
        hash=row.hash,
        previous=previous.sequence,
        winners=[a["team"] for a in row.payload["awards"]],
    )
    if was_public:  # the winners page must not keep showing a team that forfeited
        _publish(session, challenge, row, actor, now)
    return row


def publish_blockers(session: Session, challenge: Challenge) -> list[str]:
    """Why the award cannot be published yet, in words (empty when it can): the one publishing-order rule."""
    if judging_state(session, challenge) != PUBLISHED:
        return [
            "Publish the judges' scores first (on the Judging page): the leaderboard shows the final scores "
            "the award rests on only once judging is published, and the winners page must agree with it."
        ]
    return []


def publish(session: Session, challenge: Challenge, actor: User, now: datetime) -> AwardRecord:
    """Make the award in force public on the winners page (once the judges' scores are public)."""
    hold_chain(session, challenge)
    rows = chain_of(session, challenge.id)
    award = current_award(rows)
    if award is None:
        raise PrizeError(Kind.conflict, "Confirm the award before publishing it.")
    if published_award(rows) is award:
        raise PrizeError(Kind.conflict, "This award is already published.")
    blockers = publish_blockers(session, challenge)
    if blockers:
        raise PrizeError(Kind.conflict, " ".join(blockers))
    return _publish(session, challenge, award, actor, now)


def _publish(session: Session, challenge: Challenge, award: AwardRecord, actor: User, now: datetime) -> AwardRecord:
    """Append the publish record of `award` (a re-run of a public award is published at once: the page must
    not keep showing a team that forfeited)."""
    row = append(
        session, challenge, "publish", {"award_sequence": award.sequence, "award_hash": award.hash}, actor, now
    )
    record(
        session,
        "prize.published",
        "award_record",
        award.sequence,
        actor_id=actor.id,
        challenge_id=challenge.id,
        hash=row.hash,
    )
    return row


def decide_tie(
    session: Session, challenge: Challenge, actor: User, order: Sequence[int], justification: str, now: datetime
) -> PrizeTieBreak:
    """Record the organisers' order for entries tied at the cut-off; the next preview uses it."""
    text = (justification or "").strip()
    if len(text) < MIN_REASON:
        raise PrizeError(
            Kind.invalid,
            f"Write a justification of at least {MIN_REASON} characters: it is kept in the audit log.",
            "justification",
        )
    if len(set(order)) != len(order) or len(order) < 2:
        raise PrizeError(Kind.invalid, "Give each tied entry its own place in the order.", "order")
    decision = PrizeTieBreak(
        challenge_id=challenge.id, order=list(order), justification=text[:4000], decided_by_id=actor.id, decided_at=now
    )
    session.add(decision)
    session.flush()
    record(
        session,
        "prize.tie_break",
        "prize_tie_break",
        decision.id,
        actor_id=actor.id,
        challenge_id=challenge.id,
        order=list(order),
        justification=text[:4000],
    )
    return decision
