"""Turn gathered entries into scored, ranked rows with the pure `scoring` core.

Pure: standard library and `scoring` only; the caller gathers the entries (see `leaderboard.standings`).
An entry is a dict with the team and submission facts and ``results``: ``{task: (value, stderr)}``.
A result that is not a finite number is treated as missing, so one broken row cannot stop the board.

The scores come from `scoring.fast` (the scoring path of a whole board, proven equal to `scoring.score_entry`).
Rows keep their cells in one flat tuple per entry (see `score_table`); `TaskCell` objects are built only for
callers of `score_rows` (see `leaderboard.standings.Standings.rows`).

A row's statistical ties are kept as the positions of the rows it is tied with (``tied_positions``), not as
sentences: on a board of 10,000, 110,000 of them would be half of every snapshot. `tie_reasons` words them, as
`scoring.rank_entries` does, for the rows someone is shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Optional

from scoring import EntryScores, JudgesScore, ScoringConfig, TaskSpec, rank_entries
from scoring.fast import CELL, entry_scores, suite_specs, weight_shares
from scoring.ranking import statistical_tie_reasons

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


def score_rows(
    entries: Sequence[Mapping[str, Any]],
    suite: Sequence[TaskSpec],
    config: ScoringConfig,
    judges: Mapping[int, JudgesScore],
    key: str,
    max_listed_ties: Optional[int],
) -> list[dict]:
    """Score every entry, rank them by ``key`` under the challenge's policy, and return one dict per row
    (the fields of `leaderboard.standings.StandingRow`), in ranking order."""
    table = score_table(entries, suite, config, judges, key, max_listed_ties)
    return [standing_fields(table, row, suite, key) for row in table]


def standing_fields(
    table: Sequence[Mapping[str, Any]], row: Mapping[str, Any], suite: Sequence[TaskSpec], key: str
) -> dict:
    """A row of `score_table` (``table``) as the fields of `StandingRow`: its cells as `TaskCell` objects and its
    reasons with the statistical-tie sentences."""
    flat = row["tasks"]
    cells = tuple(TaskCell(task.name, task.hidden, *flat[CELL * i : CELL * i + 4]) for i, task in enumerate(suite))
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


def score_table(
    entries: Sequence[Mapping[str, Any]],
    suite: Sequence[TaskSpec],
    config: ScoringConfig,
    judges: Mapping[int, JudgesScore],
    key: str,
    max_listed_ties: Optional[int],
) -> list[dict]:
    """Like `score_rows`, with each row's ``tasks`` as one flat tuple, `CELL` numbers per task of ``suite``:
    ``raw, stderr, normalised, normalised_stderr``, then the last two rounded for display (`scoring.fast.six`);
    all None for a missing task. That is the compact form projections read: one tuple per entry, not one per cell (a
    board keeps 200,000 cells alive in the memo, and the garbage collector walks every object kept), rounded
    once for every audience.

    An entry's scores depend only on its inputs, so they are memoised on those inputs: when one result
    lands, the next recomputation scores one entry and reuses the others (the ranking is always redone).
    """
    scored, specs = {}, suite_specs(suite)
    shares = weight_shares(specs)
    rules = (tuple(specs), config.weights)
    if len(_MEMO) > _MEMO_LIMIT:
        _MEMO.clear()
    for entry in entries:
        judged = judges.get(entry["team_id"])
        results = entry["results"]  # the tasks and their numbers, flat: a few objects per entry, not 40
        memo_key = (
            rules,
            entry["team"],
            entry["is_baseline"],
            entry["submitted_at"],
            judged,
            tuple(results),
            tuple(chain.from_iterable(results.values())),
        )  # another order only misses
        found = _MEMO.get(memo_key)
        if found is None:
            found = _MEMO[memo_key] = entry_scores(entry, specs, config.weights, judged, shares)
        scored[entry["team"]] = (entry, *found)
    ranked = rank_entries(
        [scores for _, scores, _ in scored.values()],
        config.ranking,
        key,
        max_listed_ties=max_listed_ties,
        tie_reasons=False,
    )
    position_of = {place.entry_id: place.position for place in ranked}
    rows = []
    for place in ranked:
        entry, scores, cells = scored[place.entry_id]
        row = entry.copy()
        del row["results"]
        row.pop("notes", None)
        row.update(_score_fields(scores, suite, cells))
        row.update(
            position=place.position,
            rank=place.rank,
            tie_group=place.tie_group,
            statistically_tied_with=place.statistically_tied_with,
            tied_positions=tuple(map(position_of.__getitem__, place.statistically_tied_with)),
            tied_count=place.statistically_tied_count,
            reasons=_reasons(entry, place.reasons),
        )
        rows.append(row)
    return rows


def _score_fields(scored: EntryScores, suite: Sequence[TaskSpec], cells: tuple) -> dict:
    """The score columns of a row: per-task cells, benchmark, judges and final scores."""
    bench, judges, final = scored.benchmark, scored.judges, scored.final
    return {
        "tasks": cells,
        "benchmark_score": bench.value if bench else None,
        "benchmark_stderr": bench.stderr if bench else None,
        "complete": scored.complete,
        "missing_tasks": bench.missing_tasks if bench else tuple(task.name for task in suite),
        "judges_score": judges.value if judges else None,
        "judges_stderr": judges.stderr if judges else None,
        "final_score": final.value if final else None,
        "final_stderr": final.stderr if final else None,
    }


def _reasons(entry: Mapping[str, Any], reasons: Sequence[str]) -> tuple[str, ...]:
    """The ranking's reasons, preceded by the counted entry's notes (why it has no score, or that a newer
    submission is being evaluated: `evaluation.counted.CountedEntry.notes`)."""
    return tuple(entry.get("notes", ())) + tuple(reasons)
