"""The field of entries on each benchmark task: normalised scores, per-task ranks, ties and field markers.

The field is every team's counted evaluation as the board ranks it: `evaluation.counted.counted_entries` as of
the competition's cut-off (the freeze in force, `evaluation.counted.cutoff`), so a judge scores exactly the
numbers the frozen board ranks, and sees "evaluation pending" where the board does. The scorecard ranks each
task here with the pure scoring core (`benchmark_score` on a one-task suite, then `rank_entries`). Per-task
tie policy: an exact tie shares its rank (competition ranks 1, 2, 2, 4; no entry-id tie-break on a single
task), and entries within their combined standard error are marked statistically tied.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.teams.models import Team
from evaluation.counted import (
    COMPETITION,
    CountedEntry,
    counted_entries,
    counted_evaluations,
    counted_task_results,
    cutoff,
)
from evaluation.counting import SCORED
from evaluation.models import Evaluation, TaskResult
from scoring.aggregate import EntryScores, TaskResult as Result, benchmark_score
from scoring.config import RankingPolicy, TaskSpec
from scoring.normalise import NormalisedScore
from scoring.ranking import RankedEntry, rank_entries

PER_TASK_POLICY = RankingPolicy(tie_break=(), break_ties_by_entry_id=False)


@dataclass(frozen=True)
class Run:
    """A team's counted evaluation (`evaluation.counted`) and its results by task name."""

    team: Team
    evaluation: Evaluation
    results: dict[str, TaskResult]


@dataclass(frozen=True)
class TaskField:
    """One task across the field: every team's normalised score and the ranking of the entries."""

    spec: TaskSpec
    normalised: dict[int, NormalisedScore]  # team id -> score (baselines included)
    ranking: dict[int, RankedEntry]  # team id -> ranked row (baselines have rank None)
    ranked_count: int

    @property
    def entry_scores(self) -> list[float]:
        """The normalised scores of the ranked entries (not baselines)."""
        return [self.normalised[t].value for t, row in self.ranking.items() if row.rank is not None]

    @property
    def median(self) -> Optional[float]:
        """The field's median normalised score, or None with no entries."""
        scores = self.entry_scores
        return statistics.median(scores) if scores else None

    @property
    def best(self) -> Optional[float]:
        """The field's best normalised score, or None with no entries."""
        scores = self.entry_scores
        return max(scores) if scores else None


def suite_of(challenge: Challenge, runs: list[Run]) -> tuple[TaskSpec, ...]:
    """The challenge's `[[benchmark.tasks]]`; without that section, the tasks found in the results
    (baseline 0, so the normalised score equals the raw value)."""
    suite = parse_section(config_of(challenge), "benchmark")
    if suite:
        return tuple(suite)
    names = sorted({name for run in runs for name in run.results})
    metrics = {name: r.results[name].metric for r in runs for name in r.results}
    return tuple(TaskSpec(name, name, 0, metrics[name], 1.0, 0.0) for name in names)


@dataclass(frozen=True)
class Field:
    """What the scorecards read: every team's counted entry as of ``as_of`` (the freeze, or None), the runs of
    the scored ones (baselines included) and every task of the suite across the field."""

    as_of: Optional[datetime]
    entries: dict[int, CountedEntry]
    runs: dict[int, Run]
    tasks: list[TaskField]


def counted_runs(session: Session, challenge: Challenge, entries: dict[int, CountedEntry]) -> dict[int, Run]:
    """Team id -> its counted evaluation with its results, for the scored entries of ``entries``."""
    scored = {team_id: e.evaluation_id for team_id, e in entries.items() if e.status == SCORED}
    evaluations = counted_evaluations(session, scored.values())
    results = counted_task_results(session, scored.values())
    teams = {team.id: team for team in session.exec(select(Team).where(Team.challenge_id == challenge.id))}
    return {
        team_id: Run(teams[team_id], evaluations[ev_id], {row.task: row for row in results.get(ev_id, ())})
        for team_id, ev_id in scored.items()
    }


def task_field(spec: TaskSpec, runs: dict[int, Run]) -> TaskField:
    """Normalise and rank one task over the field with the pure scoring core."""
    entries, normalised = [], {}
    for team_id, run in runs.items():
        row = run.results.get(spec.name)
        if row is None:
            continue
        score = benchmark_score((spec,), {spec.name: Result(row.value, row.stderr)})
        normalised[team_id] = score.tasks[0][1]
        entries.append(
            EntryScores(
                entry_id=str(team_id),
                benchmark=score,
                is_baseline=run.team.is_baseline,
                submitted_at=run.evaluation.finished_at,
            )
        )
    ranked = rank_entries(entries, PER_TASK_POLICY, key="benchmark_score")
    return TaskField(
        spec, normalised, {int(row.entry_id): row for row in ranked}, sum(1 for row in ranked if row.rank is not None)
    )


def field_of(session: Session, challenge: Challenge) -> Field:
    """Every team's counted entry and run as of the competition's cut-off, and every task across the field."""
    as_of = cutoff(session, challenge.id, COMPETITION)
    entries = counted_entries(session, challenge, as_of)
    runs = counted_runs(session, challenge, entries)
    return Field(as_of, entries, runs, [task_field(spec, runs) for spec in suite_of(challenge, list(runs.values()))])
