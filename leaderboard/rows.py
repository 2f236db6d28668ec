"""Turn gathered entries into scored, ranked rows with the pure `scoring` core.

Pure: standard library and `scoring` only; the caller gathers the entries (see `leaderboard.standings`).
An entry is a dict with the team and submission facts and ``results``: ``{task: (value, stderr)}``.
A result that is not a finite number is treated as missing, so one broken row cannot stop the board.

A board of 10,000 teams has 200,000 task cells, so the scores are computed here by `fast_scores`, which does
the arithmetic of `scoring.normalise`, `scoring.benchmark_score` and `scoring.final_score` step for step
(the same operations in the same order, so the same floats; a property test holds the two together) without
building a dataclass per cell. Rows keep their cells in one flat tuple per entry (see `score_table`);
`TaskCell` objects are built only for callers of `score_rows` (see `leaderboard.standings.Standings.rows`).

A row's statistical ties are kept as the positions of the rows it is tied with (``tied_positions``), not as
sentences: on a board of 10,000, 110,000 of them would be half of every snapshot. `tie_reasons` words them, as
`scoring.rank_entries` does, for the rows someone is shown.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import mul
from typing import Any, Optional

from scoring import (BenchmarkScore, EntryScores, FinalScore, JudgesScore, ScoreWeights, ScoringConfig, TaskSpec,
                     rank_entries)
from scoring.ranking import statistical_tie_reasons

EMPTY_CELL = (None, None, None, None)
CELL = 6  # numbers per task in a row's flat ``tasks`` (see `score_table`)
EMPTY_FLAT = (None,) * CELL
_MEMO: dict = {}
_MEMO_LIMIT = 100_000
STDERR_OF = {"benchmark_score": "benchmark_stderr", "final_score": "final_stderr"}  # a ranking key's stderr field


@dataclass(frozen=True)
class TaskCell:
    """One task of one entry: the raw metric and its stderr, and the normalised score (None when missing)."""

    task: str
    hidden: bool
    raw: Optional[float]
    stderr: Optional[float]
    normalised: Optional[float]
    normalised_stderr: Optional[float]


def score_rows(entries: Sequence[Mapping[str, Any]], suite: Sequence[TaskSpec], config: ScoringConfig,
               judges: Mapping[int, JudgesScore], key: str, max_listed_ties: Optional[int]) -> list[dict]:
    """Score every entry, rank them by ``key`` under the challenge's policy, and return one dict per row
    (the fields of `leaderboard.standings.StandingRow`), in ranking order."""
    table = score_table(entries, suite, config, judges, key, max_listed_ties)
    return [standing_fields(table, row, suite, key) for row in table]


def standing_fields(table: Sequence[Mapping[str, Any]], row: Mapping[str, Any], suite: Sequence[TaskSpec],
                    key: str) -> dict:
    """A row of `score_table` (``table``) as the fields of `StandingRow`: its cells as `TaskCell` objects and its
    reasons with the statistical-tie sentences."""
    flat = row["tasks"]
    cells = tuple(TaskCell(task.name, task.hidden, *flat[CELL * i:CELL * i + 4]) for i, task in enumerate(suite))
    fields = {name: value for name, value in row.items() if name != "tied_positions"}
    fields.update(tasks=cells, reasons=tuple(row["reasons"]) + tie_reasons(table, row, key))
    return fields


def tie_reasons(table: Sequence[Mapping[str, Any]], row: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The statistical-tie sentences of ``row``, a row of ``table`` (the board, in position order), worded
    as `scoring.rank_entries` words them (the combined SE computed as its tie test computes it)."""
    if not row["tied_count"]:
        return ()
    stderr = STDERR_OF[key]
    variance = row[stderr] ** 2
    others = [table[position - 1] for position in row["tied_positions"]]
    listed = [(other["team"], other[key], math.sqrt(variance + other[stderr] ** 2)) for other in others]
    return statistical_tie_reasons(row[key], listed, row["tied_count"])


def score_table(entries: Sequence[Mapping[str, Any]], suite: Sequence[TaskSpec], config: ScoringConfig,
                judges: Mapping[int, JudgesScore], key: str, max_listed_ties: Optional[int]) -> list[dict]:
    """Like `score_rows`, with each row's ``tasks`` as one flat tuple, `CELL` numbers per task of ``suite``:
    ``raw, stderr, normalised, normalised_stderr``, then the last two rounded for display (`six`); all None
    for a missing task. That is the compact form projections read: one tuple per entry, not one per cell (a
    board keeps 200,000 cells alive in the memo, and the garbage collector walks every object kept), rounded
    once for every audience.

    An entry's scores depend only on its inputs, so they are memoised on those inputs: when one result
    lands, the next recomputation scores one entry and reuses the others (the ranking is always redone).
    """
    scored, specs = {}, _specs(suite)
    shares = _shares(specs)
    rules = (tuple(specs), config.weights)
    if len(_MEMO) > _MEMO_LIMIT:
        _MEMO.clear()
    for entry in entries:
        judged = judges.get(entry["team_id"])
        results = entry["results"]  # the tasks and their numbers, flat: a few objects per entry, not 40
        memo_key = (rules, entry["team"], entry["is_baseline"], entry["submitted_at"], judged,
                    tuple(results), tuple(chain.from_iterable(results.values())))  # another order only misses
        found = _MEMO.get(memo_key)
        if found is None:
            found = _MEMO[memo_key] = _scores(entry, specs, config.weights, judged, shares)
        scored[entry["team"]] = (entry, *found)
    ranked = rank_entries([scores for _, scores, _ in scored.values()], config.ranking, key,
                          max_listed_ties=max_listed_ties, tie_reasons=False)
    position_of = {place.entry_id: place.position for place in ranked}
    rows = []
    for place in ranked:
        entry, scores, cells = scored[place.entry_id]
        row = entry.copy()
        del row["results"]
        row.update(_score_fields(scores, suite, cells))
        row.update(position=place.position, rank=place.rank, tie_group=place.tie_group,
                   statistically_tied_with=place.statistically_tied_with,
                   tied_positions=tuple(map(position_of.__getitem__, place.statistically_tied_with)),
                   tied_count=place.statistically_tied_count, reasons=_reasons(entry, place.reasons))
        rows.append(row)
    return rows


def fast_scores(entry: Mapping[str, Any], suite: Sequence[TaskSpec], weights: ScoreWeights,
                judges: Optional[JudgesScore]) -> tuple[EntryScores, tuple]:
    """(the entry's `EntryScores`, its cells) as `scoring.score_entry` computes them from the entry's finite
    results; the team name is the entry id (unique per challenge, and readable in reasons). The benchmark
    score carries no per-task `NormalisedScore` objects: the cells hold those numbers."""
    specs = _specs(suite)
    scores, flat = _scores(entry, specs, weights, judges, _shares(specs))
    return scores, tuple(flat[i:i + 4] for i in range(0, len(flat), CELL))


def _specs(suite: Sequence[TaskSpec]) -> list[tuple[str, float, float, float]]:
    """(name, baseline, 1 - baseline, weight) of each task: the suite as the scoring loop reads it."""
    return [(task.name, task.baseline, 1.0 - task.baseline, task.weight) for task in suite]


def _scores(entry: Mapping[str, Any], specs: Sequence[tuple], weights: ScoreWeights,
            judges: Optional[JudgesScore], shares: Sequence[float]) -> tuple[EntryScores, tuple]:
    """`fast_scores` over `_specs`, with the cells flat (see `score_table`). A float is finite exactly when
    ``x - x == 0.0`` (the common case, tested inline); anything else goes through `_finite`."""
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
        cells += (value, raw_stderr, normalised, normalised_se, floor(normalised * 1e6 + 0.5) / 1e6,  # `six`
                  None if normalised_se is None else floor(normalised_se * 1e6 + 0.5) / 1e6)
        add_value(normalised)
        add_stderr(normalised_se)
    benchmark = _benchmark(specs, values, stderrs, tuple(missing), shares)
    return EntryScores(entry["team"], benchmark, judges, _final(benchmark, judges, weights),
                       is_baseline=entry["is_baseline"], submitted_at=entry["submitted_at"]), tuple(cells)


def _benchmark(specs: Sequence[tuple], values: Sequence[float], stderrs: Sequence[Optional[float]],
               missing: tuple[str, ...], shares: Sequence[float]) -> Optional[BenchmarkScore]:
    """`scoring.benchmark_score` from the normalised scores and stderrs of the tasks present, in suite order;
    ``shares`` are the weights' shares when every task is present (`_shares`, worked out once per board)."""
    if not values:
        return None
    if missing:
        present = [weight for name, _, _, weight in specs if name not in missing]
        total_weight = math.fsum(present)
        shares = [weight / total_weight for weight in present]
    value = math.fsum(map(mul, shares, values))
    return BenchmarkScore(value, _combined(shares, stderrs), not missing, missing)


def _shares(specs: Sequence[tuple]) -> list[float]:
    """Each task's share of the suite's total weight, as `scoring.benchmark_score` computes it."""
    total_weight = math.fsum(weight for _, _, _, weight in specs)
    return [weight / total_weight for _, _, _, weight in specs]


def _final(benchmark: Optional[BenchmarkScore], judges: Optional[JudgesScore],
           weights: ScoreWeights) -> Optional[FinalScore]:
    """`scoring.final_score`."""
    needed = [(weight, part) for weight, part in ((weights.benchmark, benchmark), (weights.judges, judges))
              if weight > 0]
    if not needed or any(part is None for _, part in needed):
        return None
    total_weight = math.fsum(weight for weight, _ in needed)
    shares = [weight / total_weight for weight, _ in needed]
    return FinalScore(math.fsum(share * part.value for share, (_, part) in zip(shares, needed)),
                      _combined(shares, [part.stderr for _, part in needed]))


def _combined(shares: Sequence[float], stderrs: Sequence[Optional[float]]) -> Optional[float]:
    """``sqrt(sum(share_i^2 * se_i^2))``; None if any se is unknown (`scoring.aggregate._combined_stderr`)."""
    if None in stderrs:
        return None
    return math.sqrt(math.fsum([(share * stderr) ** 2 for share, stderr in zip(shares, stderrs)]))


def _score_fields(scored: EntryScores, suite: Sequence[TaskSpec], cells: tuple) -> dict:
    """The score columns of a row: per-task cells, benchmark, judges and final scores."""
    bench, judges, final = scored.benchmark, scored.judges, scored.final
    return {
        "tasks": cells,
        "benchmark_score": bench.value if bench else None, "benchmark_stderr": bench.stderr if bench else None,
        "complete": scored.complete,
        "missing_tasks": bench.missing_tasks if bench else tuple(task.name for task in suite),
        "judges_score": judges.value if judges else None, "judges_stderr": judges.stderr if judges else None,
        "final_score": final.value if final else None, "final_stderr": final.stderr if final else None,
    }


def _reasons(entry: Mapping[str, Any], reasons: Sequence[str]) -> tuple[str, ...]:
    """The ranking's reasons, preceded by why an entry has no score when it has none."""
    if entry.get("submission_id") is None:
        return ("no accepted submission yet",) + tuple(reasons)
    if entry.get("evaluation_id") is None:
        return (f"evaluation of {entry['submission_label']} pending",) + tuple(reasons)
    return tuple(reasons)


def six(number: float) -> float:
    """A normalised number (never negative) rounded to the nearest multiple of 1e-6, half up: an integer
    divided by 1e6 prints with at most 6 decimals, at a quarter of the cost of `round` (which 400,000 numbers
    on a board notice). Written out inline where cells are built."""
    return math.floor(number * 1e6 + 0.5) / 1e6


def _finite(number: Any) -> bool:
    """True for a finite int or float (bools refused)."""
    return isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number)
