"""Combine task results into the benchmark score, and benchmark and judges into the final score.

Standard errors are carried along assuming the tasks (and the benchmark and the judges)
are independent. A standard error that is unknown stays unknown: when any contributing
part has ``stderr=None`` the combined stderr is None too, because treating "unknown" as
"zero" would make a noisy score look precise. The ranking never calls two entries
statistically tied when either stderr is unknown.

Named policy ``INCOMPLETE_RANKS_AFTER_COMPLETE``: an entry missing some tasks of the
suite still gets a benchmark score, the weighted mean over the tasks it has, but it is
marked ``complete=False`` and the ranking places every incomplete entry after every
complete one, so a missing task can never help.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scoring.config import ScoreWeights, TaskSpec
from scoring.normalise import NormalisedScore, normalise
from scoring.rubric import JudgesScore

INCOMPLETE_RANKS_AFTER_COMPLETE = "incomplete_ranks_after_complete"
_PARTS = {"final_score": "final", "benchmark_score": "benchmark", "judges_score": "judges"}  # key -> field


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The raw metric value of one task, as lm-eval reports it, with its standard error."""

    value: float
    stderr: float | None = None


@dataclass(frozen=True, slots=True)
class BenchmarkScore:
    """The weighted mean of the normalised task scores, in [0, 1] for metrics in [0, 1].

    ``complete`` is False when tasks of the suite are missing (``missing_tasks``); the
    score then covers only the tasks present (policy ``INCOMPLETE_RANKS_AFTER_COMPLETE``).
    """

    value: float
    stderr: float | None
    complete: bool = True
    missing_tasks: tuple[str, ...] = ()
    tasks: tuple[tuple[str, NormalisedScore], ...] = ()


@dataclass(frozen=True, slots=True)
class FinalScore:
    """The weighted combination of the benchmark score and the judges' score."""

    value: float
    stderr: float | None


@dataclass(frozen=True, slots=True)
class EntryScores:
    """Everything the ranking needs to know about one entry (or baseline model).

    ``final`` is None until the judges have scored (unless the judges' weight is 0).
    ``is_baseline`` marks an organiser-submitted reference model: listed, never ranked.
    """

    entry_id: str
    benchmark: BenchmarkScore | None
    judges: JudgesScore | None = None
    final: FinalScore | None = None
    is_baseline: bool = False
    submitted_at: datetime | None = None

    @property
    def complete(self) -> bool:
        """True when the entry has results for every task of the suite."""
        return self.benchmark is not None and self.benchmark.complete

    def score(self, key: str) -> tuple[float | None, float | None]:
        """The (value, stderr) for ``final_score``, ``benchmark_score`` or ``judges_score``."""
        part = getattr(self, _PARTS[key])
        return (None, None) if part is None else (part.value, part.stderr)


def benchmark_score(suite: Sequence[TaskSpec], results: Mapping[str, TaskResult]) -> BenchmarkScore | None:
    """The weighted mean of normalised task scores over the suite, with its standard error.

    ``stderr = sqrt(sum((w_i / W)^2 * se_i^2))`` over the tasks present, W being their
    total weight. Results for tasks not in the suite are ignored. Returns None when no
    task of the suite has a result. Raises ValueError when a result is not a finite number.
    """
    present = [task for task in suite if task.name in results]
    if not present:
        return None
    normalised = tuple(
        (task.name, normalise(results[task.name].value, task.baseline, results[task.name].stderr)) for task in present
    )
    shares = weight_shares([task.weight for task in present])
    value = math.fsum(share * score.value for share, (_, score) in zip(shares, normalised))
    return BenchmarkScore(
        value=value,
        stderr=_combined_stderr(shares, [score.stderr for _, score in normalised]),
        complete=len(present) == len(suite),
        missing_tasks=tuple(task.name for task in suite if task.name not in results),
        tasks=normalised,
    )


def weight_shares(weights: Sequence[float]) -> list[float]:
    """Each task's share of the benchmark score: its weight over the total weight of the tasks present.

    The paired comparisons (``scoring.paired``) weight the tasks with this same function.
    """
    total_weight = math.fsum(weights)
    return [weight / total_weight for weight in weights]


def final_score(
    benchmark: BenchmarkScore | None, judges: JudgesScore | None, weights: ScoreWeights
) -> FinalScore | None:
    """``weights.benchmark * benchmark + weights.judges * judges``, with its standard error.

    A part whose weight is 0 is not needed; a needed part that is missing (typically the
    judges' score before judging is in) makes the final score None.
    """
    parts = [(weights.benchmark, benchmark), (weights.judges, judges)]
    needed = [(weight, part) for weight, part in parts if weight > 0]
    if not needed or any(part is None for _, part in needed):
        return None
    total_weight = math.fsum(weight for weight, _ in needed)
    shares = [weight / total_weight for weight, _ in needed]
    return FinalScore(
        value=math.fsum(share * part.value for share, (_, part) in zip(shares, needed)),
        stderr=_combined_stderr(shares, [part.stderr for _, part in needed]),
    )


@dataclass(frozen=True)
class StderrNote:
    """Why a score is shown without ±: a short note for a table cell and the reason in a sentence."""

    short: str
    why: str


ONE_JUDGE = "one judge scored this entry, and a single opinion has no spread to measure"
TASK_WITHOUT_SE = "a benchmark task reported no standard error"


def stderr_note(
    value: float | None,
    stderr: float | None,
    *,
    benchmark_stderr: float | None = None,
    judges: float | None = None,
    judges_stderr: float | None = None,
    part: str = "final",
) -> StderrNote | None:
    """Why a final score (``part="final"``) or a judges' score (``"judges"``) has no standard error, or None
    when it has one (or is not there). A judges' score has none when one judge scored (`judges_score`); a
    final score when one of its parts has none (`final_score`): one judge, or a task without an error."""
    if value is None or stderr is not None:
        return None
    reasons = []
    if judges is not None and judges_stderr is None:
        reasons.append(ONE_JUDGE)
    if part == "final" and benchmark_stderr is None:
        reasons.append(TASK_WITHOUT_SE)
    if not reasons:
        return StderrNote("no SE", "No ±: a part of the score has no standard error.")
    short = "one judge" if reasons[0] == ONE_JUDGE else "no task SE"
    return StderrNote(short, "No ±: " + "; ".join(reasons) + ".")


def score_entry(
    entry_id: str,
    suite: Sequence[TaskSpec],
    results: Mapping[str, TaskResult],
    judges: JudgesScore | None,
    weights: ScoreWeights,
    *,
    is_baseline: bool = False,
    submitted_at: datetime | None = None,
) -> EntryScores:
    """Score one entry end to end: benchmark score, then the final score if judging is in."""
    benchmark = benchmark_score(suite, results)
    return EntryScores(
        entry_id=entry_id,
        benchmark=benchmark,
        judges=judges,
        final=final_score(benchmark, judges, weights),
        is_baseline=is_baseline,
        submitted_at=submitted_at,
    )


def _combined_stderr(shares: Sequence[float], stderrs: Sequence[float | None]) -> float | None:
    """``sqrt(sum(share_i^2 * se_i^2))`` for independent parts; None if any se is unknown."""
    if any(stderr is None for stderr in stderrs):
        return None
    return math.sqrt(math.fsum((share * stderr) ** 2 for share, stderr in zip(shares, stderrs)))
