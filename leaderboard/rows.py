"""Turn gathered entries into scored, ranked rows with the pure `scoring` core.

Pure: standard library and `scoring` only; the caller gathers the entries (see `leaderboard.standings`).
An entry is a dict with the team and submission facts and ``results``: ``{task: (value, stderr)}``.
A result that is not a finite number is treated as missing, so one broken row cannot stop the board.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from scoring import EntryScores, JudgesScore, ScoringConfig, TaskResult, TaskSpec, rank_entries, score_entry


@dataclass(frozen=True)
class TaskCell:
    """One task of one entry: the raw metric and its stderr, and the normalised score (None when missing)."""

    task: str
    hidden: bool
    raw: Optional[float]
    stderr: Optional[float]
    normalised: Optional[float]
    normalised_stderr: Optional[float]


_MEMO: dict = {}
_MEMO_LIMIT = 400_000


def score_rows(entries: Sequence[Mapping[str, Any]], suite: Sequence[TaskSpec], config: ScoringConfig,
               judges: Mapping[int, JudgesScore], key: str, max_listed_ties: Optional[int]) -> list[dict]:
    """Score every entry, rank them by ``key`` under the challenge's policy, and return one dict per row
    (the fields of `leaderboard.standings.StandingRow`), in ranking order.

    An entry's scores depend only on its inputs, so they are memoised on those inputs: when one result
    lands, the next recomputation scores one entry and reuses the others (the ranking is always redone).
    """
    by_name = {entry["team"]: entry for entry in entries}
    rules = (tuple(suite), config.weights)
    if len(_MEMO) > _MEMO_LIMIT:
        _MEMO.clear()
    scores = {name: _memo_score(entry, rules, suite, config, judges.get(entry["team_id"]))
              for name, entry in by_name.items()}
    ranked = rank_entries(list(scores.values()), config.ranking, key, max_listed_ties=max_listed_ties)
    rows = []
    for place in ranked:
        entry, scored = by_name[place.entry_id], scores[place.entry_id]
        facts = {name: value for name, value in entry.items() if name != "results"}
        rows.append({**facts, **_score_fields(scored, suite, entry["results"]),
                     "position": place.position, "rank": place.rank, "tie_group": place.tie_group,
                     "statistically_tied_with": place.statistically_tied_with,
                     "tied_count": place.statistically_tied_count, "reasons": _reasons(entry, place.reasons)})
    return rows


def _memo_score(entry: Mapping[str, Any], rules: tuple, suite: Sequence[TaskSpec], config: ScoringConfig,
                judges: Optional[JudgesScore]) -> EntryScores:
    """`_score`, memoised on everything it reads."""
    memo_key = (rules, entry["team"], entry["is_baseline"], entry["submitted_at"], judges,
                tuple(sorted(entry["results"].items())))
    found = _MEMO.get(memo_key)
    if found is None:
        found = _MEMO[memo_key] = _score(entry, suite, config, judges)
    return found


def _score(entry: Mapping[str, Any], suite: Sequence[TaskSpec], config: ScoringConfig,
           judges: Optional[JudgesScore]) -> EntryScores:
    """The entry's scores; the team name is the entry id (unique per challenge, and readable in reasons)."""
    results = {task: TaskResult(value, stderr if _finite(stderr) and stderr >= 0 else None)
               for task, (value, stderr) in entry["results"].items() if _finite(value)}
    return score_entry(entry["team"], suite, results, judges, config.weights,
                       is_baseline=entry["is_baseline"], submitted_at=entry["submitted_at"])


def _score_fields(scored: EntryScores, suite: Sequence[TaskSpec], results: Mapping[str, tuple]) -> dict:
    """The score columns of a row: per-task cells, benchmark, judges and final scores."""
    bench = scored.benchmark
    normalised = dict(bench.tasks) if bench else {}
    cells = tuple(_cell(task, normalised.get(task.name), results.get(task.name)) for task in suite)
    return {
        "tasks": cells,
        "benchmark_score": bench.value if bench else None, "benchmark_stderr": bench.stderr if bench else None,
        "complete": scored.complete,
        "missing_tasks": bench.missing_tasks if bench else tuple(task.name for task in suite),
        "judges_score": scored.judges.value if scored.judges else None,
        "judges_stderr": scored.judges.stderr if scored.judges else None,
        "final_score": scored.final.value if scored.final else None,
        "final_stderr": scored.final.stderr if scored.final else None,
    }


def _cell(task: TaskSpec, score, result: Optional[tuple]) -> TaskCell:
    """A task cell from a `scoring.NormalisedScore` and the raw (value, stderr), or an empty cell."""
    if score is None:
        return TaskCell(task.name, task.hidden, None, None, None, None)
    return TaskCell(task.name, task.hidden, score.raw, result[1] if result else None, score.value, score.stderr)


def _reasons(entry: Mapping[str, Any], reasons: Sequence[str]) -> tuple[str, ...]:
    """The ranking's reasons, preceded by why an entry has no score when it has none."""
    if entry.get("submission_id") is None:
        return ("no accepted submission yet",) + tuple(reasons)
    if entry.get("evaluation_id") is None:
        return (f"evaluation of {entry['submission_label']} pending",) + tuple(reasons)
    return tuple(reasons)


def _finite(number: Any) -> bool:
    """True for a finite int or float (bools refused)."""
    return isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number)
