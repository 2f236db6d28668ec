"""The standings of a challenge: every team's counted evaluation, scored and ranked by the pure `scoring` core.

Named policy ``LATEST_EVALUATION_OF_LATEST_SUBMISSION`` (the counted evaluation): a team's counted evaluation is
the latest *finished* evaluation (by ``finished_at``, then id) of the team's latest *accepted* submission (by
``accepted_at``, then id). While that submission's evaluation is still running, the team is listed without a
score ("evaluation pending"): an older model's score never stands in for the model the team last submitted.
``as_of`` (the freeze) restricts both choices to what existed at that moment: submissions accepted and
evaluations finished at or before it.

This module gathers rows from the database and hands them to `scoring.score_entry` and `scoring.rank_entries`;
the ranking policy, weights, suite and baselines come from the challenge's ``[scoring]`` and
``[[benchmark.tasks]]`` sections. Hidden tasks count in the score; projections for the public drop their cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Optional

from sqlalchemy import Integer, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel import Session

from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.checkpoints.models import Submission, SubmissionStatus
from app.teams.models import Team
from evaluation.models import Evaluation, EvaluationState, TaskResult
from leaderboard.rows import TaskCell, score_table, standing_fields
from scoring import ScoringConfig, TaskSpec

LATEST_EVALUATION_OF_LATEST_SUBMISSION = "latest_evaluation_of_latest_submission"
KEYS = ("benchmark_score", "final_score")


@dataclass(frozen=True)
class StandingRow:
    """One team on the board: what it submitted, how it scored, where it ranks and why."""

    team_id: int
    team: str
    is_baseline: bool
    submission_id: Optional[int]
    submission_label: Optional[str]
    submitted_at: Optional[datetime]
    parameters: Optional[int]
    licence_verdict: Optional[str]
    evaluation_id: Optional[int]
    cluster: Optional[str]
    evaluated_at: Optional[datetime]
    tasks: tuple[TaskCell, ...]
    benchmark_score: Optional[float]
    benchmark_stderr: Optional[float]
    complete: bool
    missing_tasks: tuple[str, ...]
    judges_score: Optional[float]
    judges_stderr: Optional[float]
    final_score: Optional[float]
    final_stderr: Optional[float]
    position: int
    rank: Optional[int]
    tie_group: Optional[int]
    statistically_tied_with: tuple[str, ...]
    tied_count: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Standings:
    """The ranked rows of one challenge under one key, with the suite they were scored on.

    ``table`` holds the rows compactly (dicts with the fields of `StandingRow`, cells in one flat tuple,
    statistical ties as positions, see `leaderboard.rows.score_table`), which is what projections read; ``rows`` builds
    the `StandingRow` objects from it on first use.
    """

    challenge_id: int
    key: str
    suite: tuple[TaskSpec, ...]
    table: tuple[dict, ...] = field(repr=False, compare=False)
    judging_published: bool
    as_of: Optional[datetime]
    policy: str = LATEST_EVALUATION_OF_LATEST_SUBMISSION
    ranking_policy: tuple[str, ...] = field(default=())
    derived: dict = field(default_factory=dict, repr=False, compare=False)  # what projections share (per board)

    @cached_property
    def rows(self) -> tuple[StandingRow, ...]:
        """The ranked rows, in ranking order."""
        return tuple(StandingRow(**standing_fields(self.table, row, self.suite, self.key)) for row in self.table)


def suite_of(challenge: Challenge) -> tuple[TaskSpec, ...]:
    """The challenge's benchmark suite (`[[benchmark.tasks]]`); empty when it has none."""
    return tuple(parse_section(config_of(challenge), "benchmark") or ())


def scoring_of(challenge: Challenge) -> ScoringConfig:
    """The challenge's `[scoring]` section, or the 2024 rules when it has none."""
    return parse_section(config_of(challenge), "scoring") or ScoringConfig.default_2024()


def standings(session: Session, challenge: Challenge, *, key: str = "benchmark_score",
              as_of: Optional[datetime] = None, judges_published_only: bool = True,
              max_listed_ties: int = 10) -> Standings:
    """Rank every team of ``challenge`` by ``key`` (``benchmark_score`` or ``final_score``).

    ``as_of`` ignores submissions accepted and evaluations finished after it (the public board under a freeze).
    Judges' scores count only once published unless ``judges_published_only`` is False (organisers' views).
    Raises ValueError for an unknown key.
    """
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r}; use one of {', '.join(KEYS)}")
    entries = counted_entries(session, challenge.id, as_of)
    judges, published = judges_of(session, challenge, judges_published_only)
    return rank_board(challenge, entries, judges, published, key=key, as_of=as_of, max_listed_ties=max_listed_ties)


def rank_board(challenge: Challenge, entries: list[dict], judges: dict, published: bool, *, key: str,
               as_of: Optional[datetime], max_listed_ties: int = 10) -> Standings:
    """`standings` from gathered inputs (`counted_entries`, `judges_of`), so that a caller computing several
    boards of one challenge reads each input once."""
    suite, config = suite_of(challenge), scoring_of(challenge)
    table = score_table(entries, suite, config, judges, key, max_listed_ties)
    return Standings(challenge.id, key, suite, tuple(table), judging_published=published, as_of=as_of,
                     ranking_policy=config.ranking.tie_break)


def counted_entries(session: Session, challenge_id: int, as_of: Optional[datetime]) -> list[dict]:
    """Per team: its latest accepted submission, that submission's latest finished evaluation and its results.

    Three queries returning only the columns needed: the teams; each team's counted submission and evaluation
    (the policy is written in SQL, see `_counted`); the results of the counted evaluations.
    """
    counted = _counted(challenge_id, as_of)
    teams = session.execute(select(Team.id, Team.name, Team.is_baseline)
                            .where(Team.challenge_id == challenge_id).order_by(Team.id)).all()
    chosen = {row[0]: row[1:] for row in session.execute(select(*counted.c).where(counted.c.place == 1))}
    verdicts = _effective_verdicts(session, challenge_id)
    rows, by_evaluation = [], {}
    for team_id, name, is_baseline in teams:
        (sub_id, label, parameters, verdict, accepted_at, created_at, evaluation_id, cluster, finished_at,
         _) = chosen.get(team_id) or (None,) * 10
        row = {
            "team_id": team_id, "team": name, "is_baseline": bool(is_baseline),
            "submission_id": sub_id, "submission_label": label,
            "submitted_at": (accepted_at or created_at) if sub_id is not None else None,
            "parameters": parameters, "licence_verdict": verdicts.get(sub_id, verdict) if sub_id is not None else None,
            "evaluation_id": evaluation_id, "cluster": cluster, "evaluated_at": finished_at, "results": {},
        }
        rows.append(row)
        if evaluation_id:
            by_evaluation[evaluation_id] = row["results"]
    for evaluation_id, task, value, stderr in _results(session, counted):
        results = by_evaluation.get(evaluation_id)
        if results is not None:
            results[task] = (value, stderr)
    return rows


def _counted(challenge_id: int, as_of: Optional[datetime]):
    """A subquery over the challenge's accepted submissions (up to ``as_of``), each joined with its finished
    evaluations (up to ``as_of``) or with none, numbered per team by ``place``: place 1 is the team's latest
    submission (by ``accepted_at``, then id) with its latest finished evaluation (by ``finished_at``, then
    id), if any.

    "Latest" is the first row in descending order, which puts NULLs where the database's ascending order
    puts them last (SQLite: NULL first; PostgreSQL: NULL last), as taking the last row in ascending order did
    before this was written in SQL. The join is on the tables themselves (indexed), not on subqueries, which
    SQLite would join by scanning one for every row of the other.
    """
    evaluation = and_(Evaluation.submission_id == Submission.id, _finished(challenge_id, as_of, _unindexed))
    place = func.row_number().over(partition_by=Submission.team_id,
                                   order_by=(Submission.accepted_at.desc(), Submission.id.desc(),
                                             Evaluation.finished_at.desc(), Evaluation.id.desc()))
    query = (select(Submission.team_id, Submission.id.label("submission_id"), Submission.label,
                    Submission.parameters, Submission.licence_verdict, Submission.accepted_at,
                    Submission.created_at, Evaluation.id.label("evaluation_id"), Evaluation.cluster,
                    Evaluation.finished_at, place.label("place"))
             .select_from(Submission).outerjoin(Evaluation, evaluation)
             .where(Submission.challenge_id == challenge_id, Submission.status == SubmissionStatus.accepted))
    if as_of is not None:
        query = query.where(Submission.accepted_at <= as_of)
    return query.subquery("counted")


def _finished(challenge_id: int, as_of: Optional[datetime], column=lambda column: column):
    """The filter for the finished evaluations of a challenge, up to ``as_of`` (``column`` wraps the columns)."""
    clause = and_(column(Evaluation.challenge_id) == challenge_id,
                  column(Evaluation.state) == EvaluationState.finished)
    return clause if as_of is None else and_(clause, Evaluation.finished_at <= as_of)


class _unindexed(FunctionElement):
    """A column the database must not look rows up by: ``+column`` on SQLite, an expression on PostgreSQL.

    Joining submissions to their evaluations, SQLite (without ``ANALYZE`` statistics) would rather look up
    the 10,000 finished evaluations by state for each submission than the one or two by submission id, and
    PostgreSQL does the same while its statistics are missing.
    """

    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(_unindexed)
def _unindexed_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


@compiles(_unindexed, "postgresql")
def _unindexed_postgresql(element, compiler, **kw):
    """PostgreSQL without statistics (just after a bulk load or a restore, before autovacuum analyses the
    tables) guesses one finished evaluation and scans them all for each submission: 17 s for 10,000 teams
    instead of 0.2. An expression instead of the column leaves it the submission id's index."""
    column = compiler.process(element.clauses, **kw)
    return f"({column} + 0)" if isinstance(element.type, Integer) else f"CAST({column} AS TEXT)"


def _results(session: Session, counted) -> list[tuple]:
    """(evaluation_id, task, value, stderr) of every counted evaluation.

    The hot spot of a recomputation (20 rows per team): SQLAlchemy binds the parameters, and the rows are
    fetched from the driver's cursor as plain tuples, skipping SQLAlchemy's row objects (2 to 4 times
    cheaper on 200,000 rows; the columns are ints, text and floats, which need no conversion).
    """
    query = (select(TaskResult.evaluation_id, TaskResult.task, TaskResult.value, TaskResult.stderr)
             .join(counted, and_(counted.c.evaluation_id == TaskResult.evaluation_id, counted.c.place == 1)))
    result = session.connection().execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _effective_verdicts(session: Session, challenge_id: int) -> dict[int, str]:
    """submission_id -> the organiser's latest licence resolution, where there is one (else the recorded one)."""
    try:
        from app.licences.models import LicenceResolution
    except ImportError:  # the licences feature is not installed
        return {}
    query = (select(LicenceResolution.submission_id, LicenceResolution.outcome)
             .join(Submission, Submission.id == LicenceResolution.submission_id)
             .where(Submission.challenge_id == challenge_id)
             .order_by(LicenceResolution.at, LicenceResolution.id))
    return {submission_id: outcome for submission_id, outcome in session.execute(query)}


def judges_of(session: Session, challenge: Challenge, published_only: bool) -> tuple[dict, bool]:
    """(team_id -> JudgesScore, whether judging is published) from the judging feature.

    The scores are empty while judging is unpublished unless ``published_only`` is False (organisers).
    """
    try:
        from app.judging.services import PUBLISHED, judges_scores, judging_state
    except ImportError:  # the judging feature is not installed
        return {}, False
    published = judging_state(session, challenge) == PUBLISHED
    return dict(judges_scores(session, challenge, published_only=published_only) or {}), published
