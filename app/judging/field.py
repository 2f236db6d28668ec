"""The field of entries on each benchmark task: normalised scores, per-task ranks, ties and field markers.

Until the public leaderboard's `standings(...)` offers per-task ranks, the scorecard ranks each task here
with the pure scoring core (`benchmark_score` on a one-task suite, then `rank_entries`) over the latest
finished evaluation of every team. Per-task tie policy: an exact tie shares its rank (competition ranks
1, 2, 2, 4; no entry-id tie-break on a single task), and entries within their combined standard error are
marked statistically tied.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, select

from app.challenges.config import parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.teams.models import Team
from evaluation.models import Evaluation, EvaluationState, TaskResult
from scoring.aggregate import EntryScores, TaskResult as Result, benchmark_score
from scoring.config import RankingPolicy, TaskSpec
from scoring.normalise import NormalisedScore
from scoring.ranking import RankedEntry, rank_entries

PER_TASK_POLICY = RankingPolicy(tie_break=(), break_ties_by_entry_id=False)


@dataclass(frozen=True)
class Run:
    """A team's counted evaluation (its latest finished one) and its results by task name."""

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


def latest_runs(session: Session, challenge: Challenge) -> dict[int, Run]:
    """Team id -> its latest finished evaluation with results, baselines included."""
    evaluations = session.exec(select(Evaluation).where(
        Evaluation.challenge_id == challenge.id, Evaluation.state == EvaluationState.finished)
        .order_by(Evaluation.id)).all()
    latest: dict[int, Evaluation] = {}
    for evaluation in evaluations:
        latest[evaluation.team_id] = evaluation  # ordered by id: the last one wins
    runs = {}
    for team_id, evaluation in latest.items():
        rows = session.exec(select(TaskResult).where(TaskResult.evaluation_id == evaluation.id)).all()
        runs[team_id] = Run(session.get(Team, team_id), evaluation, {row.task: row for row in rows})
    return runs


def task_field(spec: TaskSpec, runs: dict[int, Run]) -> TaskField:
    """Normalise and rank one task over the field with the pure scoring core."""
    entries, normalised = [], {}
    for team_id, run in runs.items():
        row = run.results.get(spec.name)
        if row is None:
            continue
        score = benchmark_score((spec,), {spec.name: Result(row.value, row.stderr)})
        normalised[team_id] = score.tasks[0][1]
        entries.append(EntryScores(entry_id=str(team_id), benchmark=score, is_baseline=run.team.is_baseline,
                                   submitted_at=run.evaluation.finished_at))
    ranked = rank_entries(entries, PER_TASK_POLICY, key="benchmark_score")
    return TaskField(spec, normalised, {int(row.entry_id): row for row in ranked},
                     sum(1 for row in ranked if row.rank is not None))


def field_of(session: Session, challenge: Challenge) -> tuple[dict[int, Run], list[TaskField]]:
    """Every team's counted run and every task of the suite across the field."""
    runs = latest_runs(session, challenge)
    return runs, [task_field(spec, runs) for spec in suite_of(challenge, list(runs.values()))]
