"""The counted evaluation of every team, as of the cut-off a reader must use: the one place every reader
(the board, its API and exports, the scorecards and the judges' field, the prize preview and award, a team's
submissions page) learns which submission and which evaluation count. The rule itself is pure:
`evaluation.counting.decide`; this module reads its inputs in bulk and gives the reader the facts it shows.

Cut-offs (`cutoff`): the freeze is the competition's cut-off. ``COMPETITION`` readers (the public board, the
public API and exports, the scorecards and the judges' field, the prize preview and award) count as of the
freeze in force; ``LIVE`` readers (the organisers' live view, a team's own latest result and its submissions
page) count everything so far.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import and_, func, select
from sqlmodel import Session

from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.checkpoints.models import Submission, SubmissionStatus
from evaluation.counting import (
    COUNTED_PURPOSES,
    EVALUATING,
    FAILED,
    NONE,
    PENDING,
    Candidate,
    Choice,
    Decision,
    Run,
    decide,
    submission_state,
)
from evaluation.models import CountedChoice, Evaluation, EvaluationState, LeaderboardFreeze, TaskResult
from scoring import ScoringConfig

COMPETITION, LIVE = "competition", "live"
_CHUNK = 2_000  # ids per IN (...) list: well under SQLite's and PostgreSQL's limits on bound parameters


@dataclass(frozen=True, slots=True)
class CountedEntry:
    """What counts for one team, with the facts readers show (see `evaluation.counting.Decision`).

    ``status`` is ``scored`` (the submission and evaluation count), ``pending``, ``failed`` or ``none``; for
    ``pending`` and ``failed`` the submission fields name the submission being evaluated, or the latest one
    that failed. ``licence_verdict`` is the verdict recorded at intake (`app.licences.services.verdicts_in_force`
    gives the one in force). ``newer_label``/``newer_state`` name a newer submission that is ``evaluating``
    or ``failed`` while an older one counts.
    """

    team_id: int
    status: str = NONE
    submission_id: Optional[int] = None
    label: Optional[str] = None
    parameters: Optional[int] = None
    licence_verdict: Optional[str] = None
    submitted_at: Optional[datetime] = None  # when it was accepted (created, for one never stamped accepted)
    evaluation_id: Optional[int] = None
    cluster: Optional[str] = None
    evaluated_at: Optional[datetime] = None
    chosen: bool = False
    newer_label: Optional[str] = None
    newer_state: Optional[str] = None

    @property
    def notes(self) -> tuple[str, ...]:
        """Why the entry has no score, or what to know about the one it has, in words."""
        if self.status == NONE:
            return ("no accepted submission yet",)
        if self.status == PENDING:
            return (f"evaluation of {self.label} pending",)
        if self.status == FAILED:
            return (f"evaluation of {self.label} failed",)
        notes = ("chosen by the team",) if self.chosen else ()
        if self.newer_state == EVALUATING:
            notes += (f"a newer submission, {self.newer_label}, is being evaluated",)
        elif self.newer_state == FAILED:
            notes += (f"the evaluation of a newer submission, {self.newer_label}, failed",)
        return notes


def active_freeze(session: Session, challenge_id: int) -> Optional[LeaderboardFreeze]:
    """The freeze in force (set and not lifted), if any; its ``frozen_at`` may still be ahead."""
    query = (
        select(LeaderboardFreeze)
        .where(LeaderboardFreeze.challenge_id == challenge_id, LeaderboardFreeze.unfrozen_at.is_(None))
        .order_by(LeaderboardFreeze.id.desc())
    )
    return session.execute(query).scalars().first()


def cutoff(session: Session, challenge_id: int, view: str = COMPETITION) -> Optional[datetime]:
    """The moment a reader counts as of: for ``COMPETITION`` readers the freeze in force's ``frozen_at`` (None
    without a freeze), for ``LIVE`` readers None (everything so far). See the module docstring."""
    if view == LIVE:
        return None
    if view != COMPETITION:
        raise ValueError(f"unknown view {view!r}; use {COMPETITION!r} or {LIVE!r}")
    frozen = active_freeze(session, challenge_id)
    return frozen.frozen_at if frozen is not None else None


def scoring_of(challenge: Challenge) -> ScoringConfig:
    """The challenge's `[scoring]` section (with its ``counted_submission`` rule), or the 2024 rules."""
    return parse_section(config_of(challenge), "scoring") or ScoringConfig.default_2024()


def counted_entries(
    session: Session, challenge: Challenge, as_of: Optional[datetime], team_ids: Optional[Iterable[int]] = None
) -> dict[int, CountedEntry]:
    """Team id -> what counts for it as of ``as_of``, for every team of the challenge with an accepted
    submission (of ``team_ids`` only, when given). A team left out has nothing (`CountedEntry(team_id)`).

    The rule is `evaluation.counting.decide`: the team's chosen scored submission (where the challenge lets teams
    choose), else its latest scored one, each with its latest finished primary evaluation; a failed or running
    evaluation never replaces a scored submission; without one the team is pending, failed or has nothing.
    Two indexed queries, whatever the number of teams (the accepted submissions outer-joined with their primary
    evaluations; the teams' choices), then `decide` per team.
    """
    rule = scoring_of(challenge).counted_submission
    teams = None if team_ids is None else sorted(set(team_ids))
    facts, runs = _submissions(session, challenge.id, as_of, teams)
    choices = _choices(session, challenge.id, as_of, teams)
    entries = {}
    for team_id, candidates in runs.items():
        decision = decide(
            [Candidate(sub_id, facts[sub_id][4], tuple(team_runs)) for sub_id, team_runs in candidates.items()],
            choices.get(team_id, ()),
            as_of,
            rule,
        )
        entries[team_id] = _entry(team_id, decision, facts)
    return entries


def counted_entry(session: Session, challenge: Challenge, team_id: int, as_of: Optional[datetime]) -> CountedEntry:
    """What counts for one team as of ``as_of`` (`counted_entries` for that team)."""
    return counted_entries(session, challenge, as_of, (team_id,)).get(team_id) or CountedEntry(team_id)


def submission_states(
    session: Session, challenge: Challenge, team_id: int, as_of: Optional[datetime] = None
) -> dict[int, str]:
    """Submission id -> ``scored``, ``evaluating`` or ``failed``, for each of the team's accepted submissions
    (as `decide` sees them as of ``as_of``): which of them the team may choose."""
    _, runs = _submissions(session, challenge.id, as_of, (team_id,))
    return {sub_id: submission_state(sub_runs, as_of)[0] for sub_id, sub_runs in runs.get(team_id, {}).items()}


def _entry(team_id: int, decision: Decision, facts: dict) -> CountedEntry:
    """The entry of a decision, with the submission's facts (and the counted evaluation's)."""
    if decision.submission_id is None:
        return CountedEntry(team_id)
    label, parameters, verdict, _, submitted_at, evaluations = facts[decision.submission_id]
    cluster, finished_at = evaluations.get(decision.evaluation_id, (None, None))
    newer = facts[decision.newer_id][0] if decision.newer_id is not None else None
    return CountedEntry(
        team_id,
        decision.status,
        decision.submission_id,
        label,
        parameters,
        verdict,
        submitted_at,
        decision.evaluation_id,
        cluster,
        finished_at,
        decision.chosen,
        newer,
        decision.newer_state,
    )


def _submissions(
    session: Session, challenge_id: int, as_of: Optional[datetime], team_ids: Optional[Sequence[int]]
) -> tuple[dict, dict]:
    """(submission id -> its facts, team id -> {submission id -> [its primary runs]}) for the accepted
    submissions of the challenge (accepted by ``as_of``). One query: the submissions outer-joined with their
    primary evaluations on the evaluation's submission index."""
    facts: dict = {}
    runs: dict = defaultdict(dict)
    failed = EvaluationState.failed
    for (
        team_id,
        sub_id,
        label,
        parameters,
        verdict,
        submitted_at,
        ev_id,
        state,
        finished_at,
        retrying,
        cluster,
    ) in session.execute(submissions_query(challenge_id, as_of, team_ids)):
        found = facts.get(sub_id)
        if found is None:
            found = facts[sub_id] = (label, parameters, verdict, team_id, submitted_at, {})
            runs[team_id][sub_id] = []
        if ev_id is not None:
            runs[team_id][sub_id].append(Run(ev_id, state, finished_at, bool(retrying) and state == failed))
            found[5][ev_id] = (cluster, finished_at)
    return facts, runs


def submissions_query(challenge_id: int, as_of: Optional[datetime], team_ids: Optional[Sequence[int]] = None):
    """The accepted submissions of a challenge (accepted by ``as_of``; of ``team_ids``), each outer-joined with
    its primary evaluations. Evaluations are joined by their submission id alone (indexed), so neither database
    is tempted to look them up by challenge or state for each submission, whatever its statistics say."""
    join = and_(Evaluation.submission_id == Submission.id, Evaluation.purpose.in_(COUNTED_PURPOSES))
    # One datetime for the submission (its acceptance, else its creation) and a flag for a retry: converting
    # datetimes is most of the cost of reading 10,000 rows.
    query = (
        select(
            Submission.team_id,
            Submission.id,
            Submission.label,
            Submission.parameters,
            Submission.licence_verdict,
            func.coalesce(Submission.accepted_at, Submission.created_at),
            Evaluation.id,
            Evaluation.state,
            Evaluation.finished_at,
            Evaluation.retry_at.is_not(None),
            Evaluation.cluster,
        )
        .select_from(Submission)
        .outerjoin(Evaluation, join)
        .where(Submission.challenge_id == challenge_id, Submission.status == SubmissionStatus.accepted)
    )
    if as_of is not None:
        query = query.where(Submission.accepted_at <= as_of)
    if team_ids is not None:
        query = query.where(Submission.team_id.in_(team_ids))
    return query


def _choices(
    session: Session, challenge_id: int, as_of: Optional[datetime], team_ids: Optional[Sequence[int]]
) -> dict[int, list[Choice]]:
    """Team id -> its choices made by ``as_of``."""
    query = select(CountedChoice.team_id, CountedChoice.submission_id, CountedChoice.chosen_at, CountedChoice.id).where(
        CountedChoice.challenge_id == challenge_id
    )
    if as_of is not None:
        query = query.where(CountedChoice.chosen_at <= as_of)
    if team_ids is not None:
        query = query.where(CountedChoice.team_id.in_(team_ids))
    found: dict = defaultdict(list)
    for team_id, sub_id, chosen_at, choice_id in session.execute(query):
        found[team_id].append(Choice(sub_id, chosen_at, choice_id))
    return found


def counted_evaluations(session: Session, evaluation_ids: Iterable[int]) -> dict[int, Evaluation]:
    """Evaluation id -> its row (with provenance), for readers that show a counted evaluation's details."""
    found = {}
    for chunk in _chunks(evaluation_ids):
        found.update(
            (ev.id, ev) for ev in session.execute(select(Evaluation).where(Evaluation.id.in_(chunk))).scalars()
        )
    return found


def counted_results(session: Session, evaluation_ids: Iterable[int]) -> list[tuple]:
    """(evaluation_id, task, value, stderr) of the given evaluations, a few thousand ids per query.

    The hot spot of a recomputation (20 rows per team): the rows are fetched from the driver's cursor as plain
    tuples, skipping SQLAlchemy's row objects (2 to 4 times cheaper on 200,000 rows; the columns are ints,
    text and floats, which need no conversion).
    """
    rows: list[tuple] = []
    for chunk in _chunks(evaluation_ids):
        query = select(TaskResult.evaluation_id, TaskResult.task, TaskResult.value, TaskResult.stderr).where(
            TaskResult.evaluation_id.in_(chunk)
        )
        result = session.connection().execute(query)
        try:
            rows += result.cursor.fetchall()
        finally:
            result.close()
    return rows


def counted_task_results(session: Session, evaluation_ids: Iterable[int]) -> dict[int, list[TaskResult]]:
    """Evaluation id -> its `TaskResult` rows (with metric, hash and version), for readers that show them."""
    found: dict[int, list[TaskResult]] = defaultdict(list)
    for chunk in _chunks(evaluation_ids):
        query = select(TaskResult).where(TaskResult.evaluation_id.in_(chunk))
        for row in session.execute(query.order_by(TaskResult.id)).scalars():
            found[row.evaluation_id].append(row)
    return found


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    """The distinct ids, sorted, a few thousand at a time (one IN (...) list each)."""
    ordered = sorted(set(ids))
    return (ordered[start : start + _CHUNK] for start in range(0, len(ordered), _CHUNK))
