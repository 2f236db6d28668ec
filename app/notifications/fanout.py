"""From the audit log and the calendar to notifications: finding the people behind an audience.

Features never call this: they record audit events as they always do, and the scheduler reads the log after
a stored watermark. Team events name their team as the subject (`team`), through the subject's row
(`submission`, `evaluation`, `release_obligation`) or in `details["team_id"]`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.challenges.models import Challenge, Phase
from app.db import utcnow
from app.notifications.models import NotificationCursor
from app.notifications.rules import (
    Draft,
    EventFacts,
    advance_watermark,
    deadline_draft,
    drafts_for,
    is_due_soon,
    obligation_due_draft,
    window_draft,
)
from app.notifications.services import notify
from app.ops.steps import for_each
from app.teams.models import Team, TeamMembership

CURSOR = "audit"
BATCH = 500


def _subject_team(session: Session, subject_type: str, subject_id: Optional[str]) -> Optional[int]:
    """The team owning the subject row of an event, looked up by its table."""
    if subject_id is None or not subject_id.isdigit():
        return None
    if subject_type == "team":
        return int(subject_id)
    from app.checkpoints.models import Submission
    from app.licences.models import ReleaseObligation
    from evaluation.models import Evaluation

    model = {"submission": Submission, "evaluation": Evaluation, "release_obligation": ReleaseObligation}.get(
        subject_type
    )
    row = session.get(model, int(subject_id)) if model is not None else None
    return getattr(row, "team_id", None)


def team_of_event(session: Session, event: AuditEvent) -> Optional[int]:
    """The team an event concerns: `details.team_id` first, else the subject's team."""
    team_id = (event.details or {}).get("team_id")
    if isinstance(team_id, int) or (isinstance(team_id, str) and team_id.isdigit()):
        return int(team_id)
    return _subject_team(session, event.subject_type, event.subject_id)


def _active(session: Session, query) -> list[int]:
    return list(session.exec(query.where(User.is_active.is_(True)).order_by(User.id)))


def people(
    session: Session,
    audience: str,
    *,
    team_id: Optional[int] = None,
    judge_id: Optional[int] = None,
    challenge_id: Optional[int] = None,
) -> list[int]:
    """The active people behind an audience name used by the rules."""
    if audience == "team":
        if team_id is None:
            return []
        return _active(
            session,
            select(User.id)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.team_id == team_id),
        )
    if audience == "judge":
        return _active(session, select(User.id).where(User.id == judge_id)) if judge_id else []
    if audience in ("organisers", "judges", "entrants"):
        role = {"organisers": Role.organiser, "judges": Role.judge, "entrants": Role.entrant}[audience]
        return _active(session, select(User.id).where(User.role == role))
    if audience == "team_members":
        return _active(
            session,
            select(User.id)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .join(Team, Team.id == TeamMembership.team_id)
            .where(Team.challenge_id == challenge_id, Team.is_baseline.is_(False))
            .distinct(),
        )
    return []


def _facts(session: Session, event: AuditEvent, names: dict[int, str]) -> EventFacts:
    if event.challenge_id is not None and event.challenge_id not in names:
        challenge = session.get(Challenge, event.challenge_id)
        names[event.challenge_id] = challenge.name if challenge else "the challenge"
    return EventFacts(
        event.action,
        event.subject_type,
        event.subject_id,
        dict(event.details or {}),
        names.get(event.challenge_id, "the challenge"),
    )


def notify_event(session: Session, event: AuditEvent, names: dict[int, str], now: datetime) -> int:
    """Write the notifications one audit event causes; returns how many were new."""
    written = 0
    for draft in drafts_for(_facts(session, event, names)):
        judge = (event.details or {}).get("judge_id")
        recipients = people(
            session,
            draft.audience,
            team_id=team_of_event(session, event) if draft.audience == "team" else None,
            judge_id=judge if isinstance(judge, int) else None,
            challenge_id=event.challenge_id,
        )
        for user_id in recipients:
            key = f"audit:{event.id}:{draft.kind}:{user_id}"
            written += notify(session, user_id, draft, key, audit_event_id=event.id, now=now) is not None
    return written


def process_audit_log(session: Session, now: Optional[datetime] = None) -> int:
    """Read the audit events after the watermark, notify, and move the watermark; returns new notifications."""
    now = now or utcnow()
    cursor = session.get(NotificationCursor, CURSOR)
    if cursor is None:
        cursor = NotificationCursor(name=CURSOR, last_event_id=0)
        session.add(cursor)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.id > cursor.last_event_id).order_by(AuditEvent.id).limit(BATCH)
    ).all()
    names: dict[int, str] = {}
    written = [0]

    def fan_out(event: AuditEvent) -> None:
        written[0] += notify_event(session, event, names, now)

    # An event that cannot be fanned out is logged, counted and passed over: it must not hold up the others.
    for_each(session, events, fan_out, what="notifications of audit event")
    cursor.last_event_id = advance_watermark(cursor.last_event_id, [(e.id, e.at) for e in events], now)
    cursor.updated_at = now
    session.add(cursor)
    return written[0]


def remind_deadlines(session: Session, now: Optional[datetime] = None) -> int:
    """Tell the people concerned, once per deadline and person, that it is within 48 hours: the close of each
    entrant action (the phases allowing it, back to back: `app.challenges.gating.windows`) and the end of
    judging."""
    from app.challenges.gating import ACTIONS, windows
    from app.challenges.services import config_of

    now = now or utcnow()
    written = [0]
    phases = session.exec(
        select(Phase, Challenge).join(Challenge, Challenge.id == Phase.challenge_id).where(Phase.ends_at > now)
    ).all()

    def windows_of(challenge: Challenge) -> None:
        specs = config_of(challenge).phases
        for action, words in ACTIONS.items():
            for _, closes in windows(specs, action):
                draft = window_draft(challenge.name, action, words, closes)
                if draft is not None and is_due_soon(closes, now):
                    key = f"deadline:{challenge.id}:{action}:{closes:%Y%m%d%H%M}"
                    written[0] += _tell(session, draft, challenge.id, key, now)

    def end_of(row) -> None:
        phase, challenge = row
        draft: Optional[Draft] = deadline_draft(challenge.name, phase.key, phase.name, phase.ends_at)
        if draft is not None and is_due_soon(phase.ends_at, now):
            written[0] += _tell(
                session, draft, challenge.id, f"deadline:phase:{phase.id}:{phase.ends_at:%Y%m%d%H%M}", now
            )

    for_each(
        session,
        list({challenge.id: challenge for _, challenge in phases}.values()),
        windows_of,
        what="deadline reminders of challenge",
    )
    for_each(session, phases, end_of, key=lambda row: row[0].id, what="deadline reminders of phase")
    return written[0]


def _tell(session: Session, draft: Draft, challenge_id: int, key: str, now: datetime) -> int:
    """Notify each person of the draft's audience once (`key` plus the person); how many were new."""
    return sum(
        notify(session, user_id, draft, f"{key}:{user_id}", now=now) is not None
        for user_id in people(session, draft.audience, challenge_id=challenge_id)
    )


def remind_obligations(session: Session, now: Optional[datetime] = None) -> int:
    """Tell a team, once per obligation and person, that its pending release obligation is due within 48 hours."""
    from app.licences.models import ObligationStatus, ReleaseObligation

    now = now or utcnow()
    written = [0]
    due = session.exec(
        select(ReleaseObligation, Challenge)
        .join(Challenge, Challenge.id == ReleaseObligation.challenge_id)
        .where(ReleaseObligation.status == ObligationStatus.pending, ReleaseObligation.deadline > now)
    ).all()

    def remind(row) -> None:
        obligation, challenge = row
        if not is_due_soon(obligation.deadline, now):
            return
        draft = obligation_due_draft(challenge.name, obligation.deadline)
        for user_id in people(session, "team", team_id=obligation.team_id):
            written[0] += (
                notify(session, user_id, draft, f"deadline:obligation:{obligation.id}:{user_id}", now=now) is not None
            )

    for_each(session, due, remind, key=lambda row: row[0].id, what="release reminder of obligation")
    return written[0]
