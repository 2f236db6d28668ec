"""What an audience may see of the standings, as JSON-ready rows (for orjson) plus the data the charts need.

Pure: the standard library, and orjson to hold each entry's cells serialised (it reads
`leaderboard.standings.Standings` by attribute, and its compact ``table`` of rows, so no per-cell objects are
built on the way to JSON). For the public, hidden tasks are removed (their cells, their names in
``missing_tasks`` and in the reasons) until they are revealed; the benchmark score still counts them, as the
rules say. Per-task cells are lists ``[raw, stderr, normalised, normalised_stderr]`` aligned with
``meta["tasks"]`` to keep snapshots small (raw numbers as measured, normalised ones rounded to 6 decimals; a
number that is not finite is written as null).

Statistical ties are stored compactly: ``ties`` (the tied rows, as offsets from the row's position) and ``key``
(the row's exact ranking score and stderr); `with_tie_reasons` words them when rows are served, exactly as
`scoring.rank_entries` does. Where scrubbing hidden task names would change a tie sentence (a hidden task's
name inside a team's name, or a name that could match the sentence's own words or numbers), the row stores
its scrubbed sentences instead (``tie_reasons``).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, Optional

import orjson

from leaderboard.rows import CELL, STDERR_OF, tie_reasons
from scoring.ranking import statistical_tie_reasons

SIZE_CLASSES = (  # (key, label, upper bound exclusive, in parameters)
    ("lt1b", "under 1B", 1e9),
    ("1-7b", "1B to 7B", 7.5e9),
    ("7-30b", "7B to 30B", 30e9),
    ("30-100b", "30B to 100B", 100e9),
    ("ge100b", "100B and more", math.inf),
)
TIMELINE_BUCKETS = 24
# The fixed words of the tie sentences, and the characters next to every place where a team name or a number
# meets them: a hidden name without these characters can only occur inside one piece of a sentence.
_TIE_WORDS = (
    "within 1 standard error of ",
    " (",
    " vs ",
    ", combined SE ",
    "): statistically tied",
    "also within 1 standard error of ",
    " more entries: statistically tied",
)
_TIE_JOINTS = frozenset(" (,)")
_NUMBER_CHARS = frozenset("-0123456789.")
_CELLS: dict = {}  # (id(cells), shown) -> (cells, the shown cells serialised): see `_cells`
_CELLS_LIMIT = 50_000


def size_class(parameters: Optional[int]) -> str:
    """The model size class key of a parameter count ("unknown" when not recorded)."""
    if parameters is None:
        return "unknown"
    return next(key for key, _, upper in SIZE_CLASSES if parameters < upper)


def project(standings: Any, *, reveal_hidden: bool) -> tuple[list[dict], dict]:
    """(rows, meta) for one audience; ``reveal_hidden`` keeps hidden tasks (organisers, or after the end)."""
    shown = [i for i, task in enumerate(standings.suite) if reveal_hidden or not task.hidden]
    hidden = [task.name for task in standings.suite if task.hidden and not reveal_hidden]
    table, key = standings.table, standings.key
    explicit = _explicit_ties(table, hidden)
    if len(_CELLS) > _CELLS_LIMIT:
        _CELLS.clear()
    shown_key = tuple(shown)
    rows = [_row(table, base, row, shown_key, hidden, key, explicit) for base, row in zip(_bases(standings), table)]
    boxes = _task_boxes(standings)
    tasks = [standings.suite[i] for i in shown]
    meta = {
        "key": standings.key,
        "policy": standings.policy,
        "counted_rule": standings.counted_rule,
        "ranking_policy": list(standings.ranking_policy),
        "judging_published": standings.judging_published,
        "as_of": _iso(standings.as_of),
        "hidden_tasks_withheld": len(hidden),
        "tasks": [
            {"name": t.name, "metric": t.metric, "baseline": t.baseline, "weight": t.weight, "hidden": t.hidden}
            for t in tasks
        ],
        "clusters": sorted({row["cluster"] for row in rows if row["cluster"]}),
        "task_stats": [boxes[i] for i in shown],
        "timeline": timeline(rows),
    }
    return rows, meta


def _row(table: Sequence[dict], base: dict, row: dict, shown: tuple, hidden: Sequence[str], key: str, explicit) -> dict:
    """One row of `leaderboard.rows.score_table` (``table``) as JSON-ready data: ``base`` (its `_base`) with
    the shown cells, and hidden task names scrubbed; ``explicit`` tells which rows keep scrubbed tie
    sentences (see `_explicit_ties`)."""
    missing, reasons = row["missing_tasks"], row["reasons"]
    out = base.copy()
    out["tasks"] = _cells(row["tasks"], shown)
    if hidden:
        out["missing"] = [name for name in missing if name not in hidden] + (
            ["a hidden task"] if any(name in hidden for name in missing) else []
        )
        out["reasons"] = _scrubbed(reasons, hidden)
    else:
        out["missing"], out["reasons"] = list(missing), list(reasons)
    if row["tied_count"] and explicit(row):
        out["tie_reasons"] = [_scrub(reason, hidden) for reason in tie_reasons(table, row, key)]
    return out


def _per_board(standings: Any, name: str, compute) -> Any:
    """``compute()``, kept under ``name`` in the board's ``derived`` space, so the audiences of one
    recomputation share it (computed each time for a board without that space)."""
    derived = getattr(standings, "derived", {})
    if name not in derived:
        derived[name] = compute()
    return derived[name]


def _bases(standings: Any) -> list[dict]:
    """What every audience sees alike of each row (all but its cells, missing tasks and reasons, left None
    in their places), once per board."""
    return _per_board(standings, "bases", lambda: [_base(row, standings.key) for row in standings.table])


def _base(row: dict, key: str) -> dict:
    """A row's fields that are the same for every audience (see `_bases`)."""
    position = row["position"]
    return {
        "team_id": row["team_id"],
        "team": row["team"],
        "baseline": row["is_baseline"],
        "submission_id": row["submission_id"],
        "submission": row["submission_label"],
        "submitted_at": _iso(row["submitted_at"]),
        "parameters": row["parameters"],
        "size": size_class(row["parameters"]),
        "licence": row["licence_verdict"],
        "cluster": row["cluster"],
        "evaluation_id": row["evaluation_id"],
        "evaluated_at": _iso(row["evaluated_at"]),
        "chosen": row["chosen"],
        "newer": row["newer"],
        "tasks": None,
        "score": _r(row["benchmark_score"]),
        "se": _r(row["benchmark_stderr"]),
        "complete": row["complete"],
        "missing": None,
        "judges": _r(row["judges_score"]),
        "judges_se": _r(row["judges_stderr"]),
        "final": _r(row["final_score"]),
        "final_se": _r(row["final_stderr"]),
        "rank": row["rank"],
        "position": position,
        "tie_group": row["tie_group"],
        "tied": row["tied_count"],
        "ties": [tied - position for tied in row["tied_positions"]],
        "key": [row[key], row[STDERR_OF[key]]] if row["tied_count"] else None,
        "reasons": None,
    }


def _cells(cells: tuple, shown: tuple) -> orjson.Fragment:
    """The shown cells of an entry, serialised: a JSON list of ``[raw, stderr, normalised, normalised_stderr]``
    lists, the normalised numbers rounded (the display columns of the flat cells, see
    `leaderboard.rows.score_table`). Held as one JSON fragment rather than 20 small lists: a board keeps
    200,000 cells alive, which the garbage collector would otherwise walk after every recomputation.
    Memoised by the identity of ``cells``: an entry's cells are one tuple, shared by every recomputation until
    its result changes."""
    found = _CELLS.get((id(cells), shown))
    if found is None or found[0] is not cells:
        found = _CELLS[(id(cells), shown)] = (
            cells,
            orjson.Fragment(
                orjson.dumps(
                    [(cells[at], cells[at + 1], cells[at + 4], cells[at + 5]) for at in (CELL * i for i in shown)]
                )
            ),
        )
    return found[1]


def _task_boxes(standings: Any) -> list[Optional[dict]]:
    """The five-number summary and histogram of each task of the suite over the entries that are not
    baselines, from their rounded normalised scores, once per board."""

    def compute() -> list[Optional[dict]]:
        cells = [row["tasks"] for row in standings.table if not row["is_baseline"]]
        return [_box(list(map(itemgetter(at), cells))) for at in range(4, CELL * len(standings.suite), CELL)]

    return _per_board(standings, "task_boxes", compute)


def _explicit_ties(table: Sequence[dict], hidden: Sequence[str]):
    """A test telling which rows must store their tie sentences scrubbed: none when no hidden name can
    occur in them (the common case), those tied with a team whose name holds a hidden name, or all of them
    when a hidden name could match the sentences' own words, numbers or the joints between them."""
    if not hidden:
        return lambda row: False
    if any(
        not name
        or _TIE_JOINTS.intersection(name)
        or set(name) <= _NUMBER_CHARS
        or any(name in words for words in _TIE_WORDS)
        for name in hidden
    ):
        return lambda row: True
    named = {row["position"] for row in table if any(name in row["team"] for name in hidden)}
    return lambda row: bool(named) and not named.isdisjoint(row["tied_positions"])


def with_tie_reasons(rows: Sequence[dict], served: Sequence[dict]) -> list[dict]:
    """The ``served`` rows (of ``rows``, a whole stored board in position order) with their statistical-tie
    sentences after their other reasons, worded as `scoring.rank_entries` words them."""
    return [_with_ties(rows, row) for row in served]


def _with_ties(rows: Sequence[dict], row: dict) -> dict:
    """One row with its tie sentences (the row itself when it has none)."""
    if not row.get("tied") or "ties" not in row:  # no ties, or stored before ties were (sentences in reasons)
        return row
    sentences = row.get("tie_reasons")
    if sentences is None:
        score, stderr = row["key"]
        variance, start = stderr**2, row["position"] - 1
        others = [rows[start + offset] for offset in row["ties"]]
        listed = [(other["team"], other["key"][0], math.sqrt(variance + other["key"][1] ** 2)) for other in others]
        sentences = statistical_tie_reasons(score, listed, row["tied"])
    return {**row, "reasons": list(row["reasons"]) + list(sentences)}


def _scrubbed(reasons: Sequence[str], hidden: Sequence[str]) -> list[str]:
    """The reasons with hidden task names scrubbed (most name none: one search over them all first)."""
    joined = "\0".join(reasons)
    if not any(name in joined for name in hidden):
        return list(reasons)
    return [_scrub(reason, hidden) for reason in reasons]


def _scrub(text: str, hidden: Sequence[str]) -> str:
    """Replace hidden task names in a sentence (longest first, so no name survives inside another)."""
    for name in sorted(hidden, key=len, reverse=True):
        text = text.replace(name, "a hidden task")
    return text


def _box(values: Sequence[Optional[float]]) -> Optional[dict]:
    """Five-number summary of the present values, or None when there are none."""
    present = sorted([v for v in values if v is not None])
    if not present:
        return None
    q1, med, q3 = _quartiles(present)
    return {
        "n": len(present),
        "min": _r(present[0]),
        "q1": _r(q1),
        "median": _r(med),
        "q3": _r(q3),
        "max": _r(present[-1]),
        "histogram": _histogram(present),
    }


def _quartiles(ordered: Sequence[float]) -> tuple[float, float, float]:
    """``statistics.quantiles(ordered, n=4, method="inclusive")`` of values already sorted (the library
    sorts them again), with the same arithmetic; a single value is its own quartiles."""
    if len(ordered) == 1:
        return ordered[0], ordered[0], ordered[0]
    m = len(ordered) - 1
    quartiles = []
    for i in (1, 2, 3):
        j, delta = divmod(i * m, 4)
        quartiles.append((ordered[j] * (4 - delta) + ordered[j + 1] * delta) / 4)
    return quartiles[0], quartiles[1], quartiles[2]


def _histogram(ordered: Sequence[float], bins: int = 10) -> list[int]:
    """Counts of the (sorted) values in ``bins`` equal bins over [0, 1]: a value ``v`` falls in bin
    ``int(v * bins)``, values below 0 in the first and values from 1 up in the last. The bin edges are found
    by bisection on ``v * bins`` (monotonic in ``v``), so no value is visited."""
    edges = [0] + [bisect_left(ordered, k, key=lambda v: v * bins) for k in range(1, bins)] + [len(ordered)]
    return [edges[k + 1] - edges[k] for k in range(bins)]


def timeline(rows: Sequence[dict]) -> list[dict]:
    """Counted evaluations by when they finished, in up to TIMELINE_BUCKETS equal spans of time: for each
    span the best and the median benchmark score of the entries evaluated in it, and the best so far."""
    points = sorted(
        (r["evaluated_at"], r["score"])
        for r in rows
        if r["evaluated_at"] and r["score"] is not None and not r["baseline"]
    )
    if not points:
        return []
    start, end = datetime.fromisoformat(points[0][0]), datetime.fromisoformat(points[-1][0])
    span = max((end - start).total_seconds(), 1.0)
    buckets: dict[int, list[float]] = {}
    for when, score in points:
        index = min(
            int((datetime.fromisoformat(when) - start).total_seconds() / span * TIMELINE_BUCKETS), TIMELINE_BUCKETS - 1
        )
        buckets.setdefault(index, []).append(score)
    out, best = [], -math.inf
    for index in sorted(buckets):
        scores = buckets[index]
        best = max(best, max(scores))
        at = start.timestamp() + span * (index + 0.5) / TIMELINE_BUCKETS
        out.append(
            {
                "at": datetime.fromtimestamp(at, start.tzinfo).isoformat(),
                "n": len(scores),
                "best": _r(max(scores)),
                "median": _r(statistics.median(scores)),
                "best_so_far": _r(best),
            }
        )
    return out


def _iso(moment: Optional[datetime]) -> Optional[str]:
    """ISO 8601 text of a moment, or None."""
    return None if moment is None else moment.isoformat()


def _r(number: Optional[float]) -> Optional[float]:
    """Round for display and storage (6 decimals is far below any standard error)."""
    return None if number is None else round(number, 6)
