"""The scoring path of a whole board: `scoring.score_entry`'s arithmetic for thousands of entries.

Pure: standard library and `scoring` only. A board of 10,000 teams has 200,000 task cells, so the board's
scores are computed here, doing the arithmetic of `scoring.normalise`, `scoring.benchmark_score` and
`scoring.final_score` step for step (the same operations in the same order, so the same floats; the property
test `tests/unit/scoring/test_scoring_fast_path.py` holds the two together) without building a dataclass per
cell. The cells of an entry are one flat tuple (`CELL` numbers per task), which is what the leaderboard keeps.
A result that is not a finite number is treated as missing, so one broken row cannot stop the board.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import mul
from typing import Any, Optional

from scoring.aggregate import BenchmarkScore, EntryScores, FinalScore
from scoring.config import ScoreWeights, TaskSpec
from scoring.rubric import JudgesScore

EMPTY_CELL = (None, None, None, None)
CELL = 6  # numbers per task in an entry's flat cells (see `entry_scores`)
EMPTY_FLAT = (None,) * CELL


def fast_scores(
    entry: Mapping[str, Any], suite: Sequence[TaskSpec], weights: ScoreWeights, judges: Optional[JudgesScore]
) -> tuple[EntryScores, tuple]:
    """(the entry's `EntryScores`, its cells) as `scoring.score_entry` computes them from the entry's finite
    results; the team name is the entry id (unique per challenge, and readable in reasons). The benchmark
    score carries no per-task `NormalisedScore` objects: the cells hold those numbers."""
    specs = suite_specs(suite)
    scores, flat = entry_scores(entry, specs, weights, judges, weight_shares(specs))
    return scores, tuple(flat[i : i + 4] for i in range(0, len(flat), CELL))


def suite_specs(suite: Sequence[TaskSpec]) -> list[tuple[str, float, float, float]]:
    """(name, baseline, 1 - baseline, weight) of each task: the suite as the scoring loop reads it."""
    return [(task.name, task.baseline, 1.0 - task.baseline, task.weight) for task in suite]


def entry_scores(
    entry: Mapping[str, Any],
    specs: Sequence[tuple],
    weights: ScoreWeights,
    judges: Optional[JudgesScore],
    shares: Sequence[float],
) -> tuple[EntryScores, tuple]:
    """`fast_scores` over `suite_specs`, with the cells flat: `CELL` numbers per task, ``raw, stderr,
    normalised, normalised_stderr``, then the last two rounded for display (`six`); all None for a missing
    task. ``shares`` are `weight_shares` of the specs (worked out once per board). A float is finite exactly
    when ``x - x == 0.0`` (the common case, tested inline); anything else goes through `_finite`."""
    results, floor = entry["results"], math.floor
    cells, values, stderrs, missing = [], [], [], []
    add_value, add_stderr = values.append, stderrs.append
    for name, baseline, span, _ in specs:
        result = results.get(name)
        if result is None:
            cells += EMPTY_FLAT
            missing.append(name)
            continue
        value, raw_stderr = result
        if not (value - value == 0.0 if type(value) is float else _finite(value)):
            cells += EMPTY_FLAT
            missing.append(name)
            continue
        if raw_stderr.__class__ is float and raw_stderr - raw_stderr == 0.0:
            stderr = raw_stderr if raw_stderr >= 0 else None
        else:
            stderr = raw_stderr if _finite(raw_stderr) and raw_stderr >= 0 else None
        rescaled = (value - baseline) / span  # scoring.normalise, without its checks (the suite was validated)
        normalised = rescaled if rescaled >= 0.0 else 0.0  # max(rescaled, 0.0), without the call
        normalised_se = None if stderr is None else stderr / span
        cells += (
            value,
            raw_stderr,
            normalised,
            normalised_se,
            floor(normalised * 1e6 + 0.5) / 1e6,  # `six`
            None if normalised_se is None else floor(normalised_se * 1e6 + 0.5) / 1e6,
        )
        add_value(normalised)
        add_stderr(normalised_se)
    benchmark = _benchmark(specs, values, stderrs, tuple(missing), shares)
    return EntryScores(
        entry["team"],
        benchmark,
        judges,
        _final(benchmark, judges, weights),
        is_baseline=entry["is_baseline"],
        submitted_at=entry["submitted_at"],
    ), tuple(cells)


def _benchmark(
    specs: Sequence[tuple],
    values: Sequence[float],
    stderrs: Sequence[Optional[float]],
    missing: tuple[str, ...],
    shares: Sequence[float],
) -> Optional[BenchmarkScore]:
    """`scoring.benchmark_score` from the normalised scores and stderrs of the tasks present, in suite order;
    ``shares`` are the weights' shares when every task is present (`weight_shares`)."""
    if not values:
        return None
    if missing:
        present = [weight for name, _, _, weight in specs if name not in missing]
        total_weight = math.fsum(present)
        shares = [weight / total_weight for weight in present]
    value = math.fsum(map(mul, shares, values))
    return BenchmarkScore(value, _combined(shares, stderrs), not missing, missing)


def weight_shares(specs: Sequence[tuple]) -> list[float]:
    """Each task's share of the suite's total weight, as `scoring.benchmark_score` computes it."""
    total_weight = math.fsum(weight for _, _, _, weight in specs)
    return [weight / total_weight for _, _, _, weight in specs]


def _final(
    benchmark: Optional[BenchmarkScore], judges: Optional[JudgesScore], weights: ScoreWeights
) -> Optional[FinalScore]:
    """`scoring.final_score`."""
    needed = [
        (weight, part) for weight, part in ((weights.benchmark, benchmark), (weights.judges, judges)) if weight > 0
    ]
    if not needed or any(part is None for _, part in needed):
        return None
    total_weight = math.fsum(weight for weight, _ in needed)
    shares = [weight / total_weight for weight, _ in needed]
    return FinalScore(
        math.fsum(share * part.value for share, (_, part) in zip(shares, needed)),
        _combined(shares, [part.stderr for _, part in needed]),
    )


def _combined(shares: Sequence[float], stderrs: Sequence[Optional[float]]) -> Optional[float]:
    """``sqrt(sum(share_i^2 * se_i^2))``; None if any se is unknown (`scoring.aggregate._combined_stderr`)."""
    if None in stderrs:
        return None
    return math.sqrt(math.fsum([(share * stderr) ** 2 for share, stderr in zip(shares, stderrs)]))


def six(number: float) -> float:
    """A normalised number (never negative) rounded to the nearest multiple of 1e-6, half up: an integer
    divided by 1e6 prints with at most 6 decimals, at a quarter of the cost of `round` (which 400,000 numbers
    on a board notice). Written out inline where cells are built."""
    return math.floor(number * 1e6 + 0.5) / 1e6


def _finite(number: Any) -> bool:
    """True for a finite int or float (bools refused)."""
    return isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number)
