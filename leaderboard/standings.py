"""The standings of a challenge: every team's counted evaluation, scored and ranked by the pure `scoring` core.

Which submission and which evaluation count for each team, as of a cut-off, is decided in one place for every
reader: `evaluation.counted.counted_entries` (the rule: `evaluation.counting`). The licence verdict shown is
the one in force (`app.licences.services.verdicts_in_force`). This module gathers the counted entries and
their results and hands them to `scoring` (`leaderboard.rows.score_table`); the ranking policy, weights, suite
and baselines come from the challenge's ``[scoring]`` and ``[[benchmark.tasks]]`` sections. Hidden tasks
count in the score; projections for the public drop their cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Optional

from sqlalchemy import select
from sqlmodel import Session

from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.judging.services import PUBLISHED, judges_scores, judging_state
from app.licences.services import verdicts_in_force
from app.teams.models import Team
from evaluation.counted import CountedEntry, counted_entries, counted_results, scoring_of
from leaderboard.rows import TaskCell, score_table, standing_fields
from scoring import TaskSpec

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
    chosen: bool
    newer: Optional[str]
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
    policy: str = ""  # the counted-submission rule (`scoring.counted_submission`)
    counted_rule: str = ""  # that rule in one sentence
    ranking_policy: tuple[str, ...] = field(default=())
    derived: dict = field(default_factory=dict, repr=False, compare=False)  # what projections share (per board)

    @cached_property
    def rows(self) -> tuple[StandingRow, ...]:
        """The ranked rows, in ranking order."""
        return tuple(StandingRow(**standing_fields(self.table, row, self.suite, self.key)) for row in self.table)


def suite_of(challenge: Challenge) -> tuple[TaskSpec, ...]:
    """The challenge's benchmark suite (`[[benchmark.tasks]]`); empty when it has none."""
    return tuple(parse_section(config_of(challenge), "benchmark") or ())


def standings(
    session: Session,
    challenge: Challenge,
    *,
    key: str = "benchmark_score",
    as_of: Optional[datetime] = None,
    judges_published_only: bool = True,
    max_listed_ties: int = 10,
) -> Standings:
    """Rank every team of ``challenge`` by ``key`` (``benchmark_score`` or ``final_score``).

    ``as_of`` ignores submissions accepted and evaluations finished after it (the public board under a freeze).
    Judges' scores count only once published unless ``judges_published_only`` is False (organisers' views).
    Raises ValueError for an unknown key.
    """
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r}; use one of {', '.join(KEYS)}")
    entries = board_entries(session, challenge, as_of)
    judges, published = judges_of(session, challenge, judges_published_only)
    return rank_board(challenge, entries, judges, published, key=key, as_of=as_of, max_listed_ties=max_listed_ties)


def rank_board(
    challenge: Challenge,
    entries: list[dict],
    judges: dict,
    published: bool,
    *,
    key: str,
    as_of: Optional[datetime],
    max_listed_ties: int = 10,
) -> Standings:
    """`standings` from gathered inputs (`board_entries`, `judges_of`), so that a caller computing several
    boards of one challenge reads each input once."""
    suite, config = suite_of(challenge), scoring_of(challenge)
    table = score_table(entries, suite, config, judges, key, max_listed_ties)
    return Standings(
        challenge.id,
        key,
        suite,
        tuple(table),
        judging_published=published,
        as_of=as_of,
        policy=config.counted_submission,
        counted_rule=config.counted_rule_words,
        ranking_policy=config.ranking.tie_break,
    )


def board_entries(session: Session, challenge: Challenge, as_of: Optional[datetime]) -> list[dict]:
    """Per team (in id order): its counted entry as of ``as_of`` (`evaluation.counted.counted_entries`) with
    the licence verdict in force and the counted evaluation's results ``{task: (value, stderr)}``."""
    teams = session.execute(
        select(Team.id, Team.name, Team.is_baseline).where(Team.challenge_id == challenge.id).order_by(Team.id)
    ).all()
    counted = counted_entries(session, challenge, as_of)
    verdicts = verdicts_in_force(
        session, {e.submission_id: e.licence_verdict for e in counted.values() if e.submission_id is not None}
    )
    rows, by_evaluation = [], {}
    for team_id, name, is_baseline in teams:
        entry = counted.get(team_id) or CountedEntry(team_id)
        row = {
            "team_id": team_id,
            "team": name,
            "is_baseline": bool(is_baseline),
            "submission_id": entry.submission_id,
            "submission_label": entry.label,
            "submitted_at": entry.submitted_at,
            "parameters": entry.parameters,
            "licence_verdict": verdicts.get(entry.submission_id),
            "evaluation_id": entry.evaluation_id,
            "cluster": entry.cluster,
            "evaluated_at": entry.evaluated_at,
            "chosen": entry.chosen,
            "newer": entry.newer_state,
            "notes": entry.notes,
            "results": {},
        }
        rows.append(row)
        if entry.evaluation_id is not None:
            by_evaluation[entry.evaluation_id] = row["results"]
    for evaluation_id, task, value, stderr in counted_results(session, by_evaluation):
        by_evaluation[evaluation_id][task] = (value, stderr)
    return rows


def judges_of(session: Session, challenge: Challenge, published_only: bool) -> tuple[dict, bool]:
    """(team_id -> JudgesScore, whether judging is published) from the judging feature.

    The scores are empty while judging is unpublished unless ``published_only`` is False (organisers).
    """
    published = judging_state(session, challenge) == PUBLISHED
    return dict(judges_scores(session, challenge, published_only=published_only) or {}), published
