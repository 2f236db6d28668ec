"""A team chooses which of its evaluated submissions counts (as Kaggle lets teams select final submissions),
until the board freezes. The choice is a dated row (`evaluation.models.CountedChoice`), so the rule
(`evaluation.counting.decide`) reads it as of any cut-off: a choice made after the freeze changes nothing on
the frozen board. The page and the API call `choose`; a `ChoiceRefused` is a `DomainError` (its kind decides the status).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlmodel import Session

from app.audit.services import record
from app.challenges.models import Challenge
from app.checkpoints.models import Submission
from app.db import database_id, utcnow
from app.errors import DomainError, Kind
from app.teams.models import Team
from evaluation.counted import (
    COMPETITION,
    LIVE,
    CountedEntry,
    active_freeze,
    counted_entry,
    cutoff,
    scoring_of,
    submission_states,
)
from evaluation.counting import SCORED
from evaluation.models import CountedChoice


class ChoiceRefused(DomainError):
    """A choice the platform refuses: not found (not the team's submission) or a conflict (why it cannot count
    now)."""

    kind = Kind.conflict


def choosing_closed(session: Session, challenge: Challenge, now: datetime) -> Optional[str]:
    """Why the challenge's teams cannot choose now (the rule does not let them, or the board is frozen);
    None when they can."""
    if not scoring_of(challenge).teams_may_choose:
        return "In this challenge each team's latest scored submission counts: teams do not choose."
    frozen = active_freeze(session, challenge.id)
    if frozen is not None and frozen.frozen_at <= now:
        return (
            f"The board froze on {frozen.frozen_at:%d %b %Y %H:%M} UTC: the submission that counts can no "
            "longer change."
        )
    return None


def choose(
    session: Session,
    challenge: Challenge,
    team: Team,
    user_id: int,
    submission_id: Optional[int],
    now: Optional[datetime] = None,
) -> CountedChoice:
    """Record that ``submission_id`` counts for ``team`` (None: its latest scored submission again); audited,
    in the caller's transaction. Refused with 409 once the board froze, where teams do not choose, or for a
    submission without a finished evaluation; 404 for a submission that is not the team's."""
    now = now or utcnow()
    label = None
    if submission_id is not None:
        found = database_id(submission_id)  # a number the database cannot hold is no submission
        submission = session.get(Submission, found) if found is not None else None
        if submission is None or submission.team_id != team.id or submission.challenge_id != challenge.id:
            raise ChoiceRefused("No such submission.", kind=Kind.not_found)
        label = submission.label
    closed = choosing_closed(session, challenge, now)
    if closed:
        raise ChoiceRefused(closed)
    if submission_id is not None and submission_states(session, challenge, team.id).get(submission_id) != SCORED:
        raise ChoiceRefused(f"{label} has no finished evaluation: only an evaluated submission can count.")
    choice = CountedChoice(
        challenge_id=challenge.id, team_id=team.id, submission_id=submission_id, chosen_by_id=user_id, chosen_at=now
    )
    session.add(choice)
    session.flush()
    if submission_id is None:
        record(session, "team.counted_default", "team", team.id, actor_id=user_id, challenge_id=challenge.id)
    else:
        record(
            session,
            "submission.counted_chosen",
            "submission",
            submission_id,
            actor_id=user_id,
            challenge_id=challenge.id,
            team_id=team.id,
            label=label,
        )
    return choice


@dataclass(frozen=True)
class ChoicePanel:
    """What a team sees of the rule on its submissions page and in the API."""

    rule: str  # `scoring.counted_submission`
    rule_words: str
    live: CountedEntry  # what counts now (everything so far)
    frozen: Optional[CountedEntry]  # what the frozen board counts, under a freeze; else None
    frozen_at: Optional[datetime]
    states: dict[int, str]  # submission id -> scored | evaluating | failed (accepted submissions)
    choice: Optional[CountedChoice]  # the team's latest choice, if any
    closed: Optional[str]  # why the team cannot choose now; None when it can


def choice_panel(session: Session, challenge: Challenge, team_id: int, now: Optional[datetime] = None) -> ChoicePanel:
    """The team's view of which submission counts: now (``LIVE``), on the frozen board (``COMPETITION``,
    under a freeze), each submission's state, its latest choice, and whether it may choose now."""
    now = now or utcnow()
    config, frozen_at = scoring_of(challenge), cutoff(session, challenge.id, COMPETITION)
    choice = (
        session.execute(
            select(CountedChoice)
            .where(CountedChoice.team_id == team_id)
            .order_by(CountedChoice.chosen_at.desc(), CountedChoice.id.desc())
        )
        .scalars()
        .first()
    )
    return ChoicePanel(
        config.counted_submission,
        config.counted_rule_words,
        counted_entry(session, challenge, team_id, cutoff(session, challenge.id, LIVE)),
        counted_entry(session, challenge, team_id, frozen_at) if frozen_at else None,
        frozen_at,
        submission_states(session, challenge, team_id),
        choice,
        choosing_closed(session, challenge, now),
    )
