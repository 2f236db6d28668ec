"""Rank entries by a chosen score, with an explicit tie-break chain and its reasons.

The ranking policy, in order of the sort:

1. When the key depends on the benchmark (``final_score``, ``benchmark_score``),
   complete entries come before incomplete ones (``INCOMPLETE_RANKS_AFTER_COMPLETE``).
2. Entries without the key score (no final score before judging) come last, unranked.
3. Higher key score first.
4. The configured tie-break chain (``RankingPolicy.tie_break``): higher scores win,
   ``earlier_submission`` means the earlier submission wins; a missing value loses.
5. The entry id, alphabetically: the last, deterministic key (on by default).

Ranks are competition ranks (1, 2, 2, 4) over the entries that are not baselines: two
entries share a rank only when every key above is equal, which with the entry id key
never happens. Baseline models are listed at their score position with rank None and
do not push entries down. Separately from the order, entries whose key scores differ by
less than their combined standard error ``sqrt(se_a^2 + se_b^2)`` are marked as
statistically tied, so nobody mistakes noise for a lead.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from scoring.aggregate import EntryScores
from scoring.config import SCORE_KEYS, RankingPolicy

_LABELS = {
    "final_score": "final score",
    "benchmark_score": "benchmark score",
    "judges_score": "judges' score",
    "earlier_submission": "submission time (earlier wins)",
    "entry_id": "entry id (the last, deterministic key)",
}
_BENCHMARK_KEYS = ("final_score", "benchmark_score")


@dataclass(frozen=True, slots=True)
class RankedEntry:
    """One row of a ranking: its place, its rank (None for baselines and unscored
    entries), the statistical ties around it, and the reasons in words."""

    entry_id: str
    position: int
    rank: int | None
    is_baseline: bool
    score: float | None
    stderr: float | None
    complete: bool
    statistically_tied_with: tuple[str, ...]
    tie_group: int | None
    reasons: tuple[str, ...]
    statistically_tied_count: int = 0


class _KeyPart(NamedTuple):
    """One key of the sort: its name, its sortable value and what it shows (see `_shown`)."""

    name: str
    sort: tuple
    value: Any


def rank_entries(
    entries: Sequence[EntryScores],
    policy: RankingPolicy,
    key: str = "final_score",
    *,
    max_listed_ties: int | None = None,
    tie_reasons: bool = True,
) -> tuple[RankedEntry, ...]:
    """Order ``entries`` by ``key`` under ``policy`` and explain each place.

    ``key`` is ``final_score``, or ``benchmark_score`` for the public board before
    judging, or ``judges_score``. Raises ValueError for an unknown key or repeated ids.
    ``max_listed_ties`` caps how many statistically tied entries each row lists (the
    nearest ones, with one sentence for the rest); ``statistically_tied_count`` is
    always the full count. On a board of thousands, each entry can be within one
    standard error of hundreds of others, and listing them all would be noise.
    ``tie_reasons=False`` leaves the statistical-tie sentences out of ``reasons`` (a caller that
    stores the ties compactly builds them later with `statistical_tie_reasons`, for the rows it shows).
    """
    if key not in SCORE_KEYS:
        raise ValueError(f"unknown ranking key {key!r}; use one of {', '.join(SCORE_KEYS)}")
    if max_listed_ties is not None and max_listed_ties < 0:
        raise ValueError("max_listed_ties must not be negative")
    ids = [entry.entry_id for entry in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("entry ids must be unique")
    keyed = [_key_parts(entry, policy, key) for entry in entries]
    sort_keys = [tuple(part.sort for part in parts) for parts in keyed]
    order = sorted(range(len(entries)), key=sort_keys.__getitem__)  # stable, as sorting the rows was
    rows = [(keyed[i], entries[i]) for i in order]
    keys = [sort_keys[i] for i in order]
    ordered = [entries[i] for i in order]
    values = [entry.score(key) for entry in ordered]
    sides = [entry.complete if key in _BENCHMARK_KEYS else True for entry in ordered]
    variances = [None if value is None or se is None else se**2 for value, se in values]
    ranks = _competition_ranks(ordered, keys, values)
    tied_with, tied_counts = _statistical_ties(values, sides, variances, max_listed_ties)
    groups = _tie_groups(values, sides, variances)
    ranked = [i for i, rank in enumerate(ranks) if rank is not None]
    place = {index: here for here, index in enumerate(ranked)}
    return tuple(
        RankedEntry(
            entry_id=entry.entry_id,
            position=index + 1,
            rank=ranks[index],
            is_baseline=entry.is_baseline,
            score=values[index][0],
            stderr=values[index][1],
            complete=entry.complete,
            statistically_tied_with=tuple(ordered[j].entry_id for j in tied_with[index]),
            tie_group=groups[index],
            reasons=_reasons(rows, ranks, ranked, place, index, key)
            + (
                _tie_reasons(ordered, values, variances, index, tied_with[index], tied_counts[index])
                if tie_reasons
                else ()
            ),
            statistically_tied_count=tied_counts[index],
        )
        for index, entry in enumerate(ordered)
    )


def _key_parts(entry: EntryScores, policy: RankingPolicy, key: str) -> tuple[_KeyPart, ...]:
    """The sort keys of one entry, in policy order (see the module docstring)."""
    parts = []
    if key in _BENCHMARK_KEYS:
        parts.append(_KeyPart("completeness", (not entry.complete,), entry.benchmark))
    parts.append(_score_part(entry, key))
    for name in policy.tie_break:
        if name == "earlier_submission":
            when = entry.submitted_at
            parts.append(_KeyPart(name, (True, 0) if when is None else (False, when), when))
        elif name != key:
            parts.append(_score_part(entry, name))
    if policy.break_ties_by_entry_id:
        parts.append(_KeyPart("entry_id", (entry.entry_id,), entry.entry_id))
    return tuple(parts)


def _score_part(entry: EntryScores, name: str) -> _KeyPart:
    """A higher-wins score key; a missing score sorts after every present one."""
    value, _ = entry.score(name)
    return _KeyPart(name, (True, 0.0) if value is None else (False, -value), value)


def _shown(part: _KeyPart) -> str:
    """How a key reads in a reason (built only for the keys a reason names)."""
    if part.name == "completeness":
        return _completeness(part.value)
    if part.name == "earlier_submission":
        return "unknown" if part.value is None else part.value.isoformat()
    if part.name == "entry_id":
        return part.value
    return "none yet" if part.value is None else f"{part.value:.4f}"


def _completeness(benchmark: Any) -> str:
    """How an entry's benchmark coverage reads in a reason."""
    if benchmark is None:
        return "missing every task"
    if benchmark.complete:
        return "all tasks"
    return "missing " + ", ".join(benchmark.missing_tasks)


def _competition_ranks(
    ordered: Sequence[EntryScores], keys: Sequence[tuple], values: Sequence[tuple]
) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) over scored non-baseline rows; None for the rest."""
    ranks: list[int | None] = []
    ranked = 0
    previous: tuple | None = None
    for entry, sort_key, (value, _) in zip(ordered, keys, values):
        if entry.is_baseline or value is None:
            ranks.append(None)
            continue
        ranked += 1
        same = previous is not None and sort_key == previous[0]
        ranks.append(previous[1] if same else ranked)
        previous = (sort_key, ranks[-1])
    return ranks


def _within_stderr(a: EntryScores, b: EntryScores, key: str) -> float | None:
    """The combined stderr when ``a`` and ``b`` are statistically tied on ``key``, else None.

    Needs both scores and both stderrs; entries on different sides of the completeness
    split are never tied, since the policy, not the noise, separates them. (The ranking
    applies this test through `_tied`, on precomputed variances.)
    """
    (value_a, se_a), (value_b, se_b) = a.score(key), b.score(key)
    if None in (value_a, se_a, value_b, se_b):
        return None
    if key in _BENCHMARK_KEYS and a.complete != b.complete:
        return None
    combined = math.sqrt(se_a**2 + se_b**2)
    return combined if abs(value_a - value_b) < combined else None


def _tied(
    values: Sequence[tuple], sides: Sequence[bool], variances: Sequence[float | None], i: int, j: int
) -> float | None:
    """`_within_stderr` for rows ``i`` and ``j`` (same arithmetic: ``se**2`` summed, then the root)."""
    var_i, var_j = variances[i], variances[j]
    if var_i is None or var_j is None or sides[i] != sides[j]:
        return None
    combined = math.sqrt(var_i + var_j)
    return combined if abs(values[i][0] - values[j][0]) < combined else None


def _statistical_ties(
    values: Sequence[tuple], sides: Sequence[bool], variances: Sequence[float | None], limit: int | None
) -> tuple[list[list[int]], list[int]]:
    """For each row, the indexes of the rows it is statistically tied with, the nearest
    ``limit`` of them by position when capped, and the full count.

    Rows come sorted by the key score within each completeness side, so the rows within
    ``sqrt(var_i + v)`` of row i form a contiguous span for any v. With v the smallest
    variance of the run, every row of that span is tied with i; with v the largest, no row
    outside it is. Only the band between the two spans is tested pair by pair, and only
    the listed ties are walked to, so a row's hundreds of ties (on a board of 10,000) are
    mostly counted, not tested one by one.
    """
    n = len(values)
    ties: list[list[int]] = [[] for _ in range(n)]
    counts = [0] * n
    for start, stop in _runs(values, sides):
        _run_ties(values, sides, variances, start, stop, limit, ties, counts)
    return ties, counts


def _runs(values: Sequence[tuple], sides: Sequence[bool]) -> list[tuple[int, int]]:
    """The maximal spans of rows on one side with a score; only rows within one span can tie."""
    runs, start = [], None
    for i in range(len(values) + 1):
        if i < len(values) and values[i][0] is not None and (start is None or sides[i] == sides[start]):
            if start is None:
                start = i
            continue
        if start is not None:
            runs.append((start, i))
        start = i if i < len(values) and values[i][0] is not None else None
    return runs


def _run_ties(
    values, sides, variances, start: int, stop: int, limit: int | None, ties: list, counts: list[int]
) -> None:
    """`_statistical_ties` within one run of rows ``[start, stop)``, sorted by score, highest first.

    The pair test is `_tied`'s, written out here: it runs hundreds of thousands of times.
    """
    scores = [values[k][0] for k in range(start, stop)]
    spread = variances[start:stop]
    known = [var for var in spread if var is not None]
    if not known:
        return
    if any(scores[k] < scores[k + 1] for k in range(len(scores) - 1)):  # not sorted: test every pair
        _pairwise_ties(values, sides, variances, start, stop, limit, ties, counts)
        return
    negated = [-score for score in scores]
    unknown = [0]  # unknown[k]: rows before k (in the run) without a stderr
    for var in spread:
        unknown.append(unknown[-1] + (var is None))
    low, high, sqrt = min(known), max(known), math.sqrt
    every_known = len(known) == len(spread)
    for i, (here, var_i) in enumerate(zip(scores, spread)):
        if var_i is None:
            continue
        in_lo, in_hi = _span(scores, negated, i, sqrt(var_i + low))
        out_lo, out_hi = _span(scores, negated, i, sqrt(var_i + high))
        sure = (in_hi - in_lo) - (unknown[in_hi] - unknown[in_lo]) - 1  # i itself is in the span
        band = 0
        for lo, hi in ((out_lo, in_lo), (in_hi, out_hi)):
            if lo == hi:
                continue
            if every_known:  # the common case, tested without the check for a missing stderr
                band += sum([abs(here - score) < sqrt(var_i + var) for score, var in zip(scores[lo:hi], spread[lo:hi])])
            else:
                band += sum(
                    [
                        var is not None and abs(here - score) < sqrt(var_i + var)
                        for score, var in zip(scores[lo:hi], spread[lo:hi])
                    ]
                )
        counts[start + i] = max(sure, 0) + band
        if limit is not None and unknown[i] == unknown[in_lo] and unknown[in_hi] == unknown[i + 1]:
            # the nearest rows are in the sure span: every one of them is tied, no test needed
            below = _walk(scores, spread, i, range(i - 1, out_lo - 1, -1), limit, i - in_lo)
            above = _walk(scores, spread, i, range(i + 1, out_hi), limit, in_hi - i - 1)
        else:
            below = _walk(scores, spread, i, range(i - 1, out_lo - 1, -1), limit)
            above = _walk(scores, spread, i, range(i + 1, out_hi), limit)
        ties[start + i] = [start + k for k in _nearest(below, above, i, limit)]


def _walk(
    scores: Sequence[float], spread: Sequence[float | None], i: int, steps: range, limit: int | None, sure: int = 0
) -> list[int]:
    """The first ``limit`` rows along ``steps`` tied with row ``i``; the first ``sure`` steps are known
    to be tied (rows of the sure span, all with a stderr), so they are taken without a test."""
    if limit is not None and sure >= limit:
        return list(steps[:limit])
    here, var_i, found = scores[i], spread[i], list(steps[:sure])
    for k in steps[sure:]:
        if limit is not None and len(found) >= limit:
            break
        var_k = spread[k]
        if var_k is not None and abs(here - scores[k]) < math.sqrt(var_i + var_k):
            found.append(k)
    return found


def _nearest(below: list, above: list, i: int, limit: int | None) -> list:
    """The ``limit`` ties nearest to row ``i`` from the two walks (each nearest first), the lower row first
    at equal distance, returned in row order."""
    if limit is None or len(below) + len(above) <= limit:
        return below[::-1] + above
    b = a = 0
    while b + a < limit:
        if a == len(above) or (b < len(below) and i - below[b] <= above[a] - i):
            b += 1
        else:
            a += 1
    return below[:b][::-1] + above[:a]


def _span(scores: Sequence[float], negated: Sequence[float], i: int, reach: float) -> tuple[int, int]:
    """The rows ``[lo, hi)`` around row ``i`` whose score differs from its score by less than ``reach``
    (computed as ``abs(score_i - score_j)``, exactly as the tie test does)."""
    here = scores[i]
    lo = bisect_right(negated, -(here + reach), 0, i)
    while lo > 0 and abs(here - scores[lo - 1]) < reach:
        lo -= 1
    while lo < i and not abs(here - scores[lo]) < reach:
        lo += 1
    hi = bisect_left(negated, reach - here, i + 1, len(scores))
    while hi > i + 1 and not abs(here - scores[hi - 1]) < reach:
        hi -= 1
    while hi < len(scores) and abs(here - scores[hi]) < reach:
        hi += 1
    return lo, max(hi, i + 1)


def _pairwise_ties(
    values, sides, variances, start: int, stop: int, limit: int | None, ties: list, counts: list[int]
) -> None:
    """Every pair of ``[start, stop)`` tested: the fallback for rows not sorted by score."""
    for i in range(start, stop):
        found = [j for j in range(start, stop) if j != i and _tied(values, sides, variances, i, j) is not None]
        counts[i] = len(found)
        if limit is not None and len(found) > limit:
            found = sorted(sorted(found, key=lambda j: abs(j - i))[:limit])
        ties[i] = found


def _tie_groups(values: Sequence[tuple], sides: Sequence[bool], variances: Sequence[float | None]) -> list[int | None]:
    """Number runs of rows each within combined SE of the row above; lone rows get None."""
    run_of: list[int] = []
    for i in range(len(values)):
        chained = i > 0 and _tied(values, sides, variances, i - 1, i) is not None
        run_of.append(run_of[-1] if chained else (run_of[-1] + 1 if run_of else 0))
    sizes = Counter(run_of)
    numbering: dict[int, int] = {}
    for run in run_of:
        if sizes[run] > 1 and run not in numbering:
            numbering[run] = len(numbering) + 1
    return [numbering.get(run) for run in run_of]


def _reasons(
    rows: Sequence[tuple],
    ranks: Sequence[int | None],
    ranked: Sequence[int],
    place: Mapping[int, int],
    index: int,
    key: str,
) -> tuple[str, ...]:
    """Why this row sits where it does, against the nearest ranked rows above and below.

    ``ranked`` lists the indexes of the ranked rows and ``place`` maps a row index to its
    place in ``ranked``.
    """
    parts, entry = rows[index]
    if entry.is_baseline:
        return (
            "baseline model (organiser reference): listed at its score position, "
            "takes no rank and does not push entries down",
        )
    if ranks[index] is None:
        return (f"not ranked: no {_LABELS[key]} yet",)
    here = place[index]
    reasons = []
    if here > 0:
        reasons.append(_compare(rows[ranked[here - 1]], rows[index], ranks[index], above=False))
    if here + 1 < len(ranked):
        reasons.append(_compare(rows[index], rows[ranked[here + 1]], ranks[index], above=True))
    return tuple(reasons) or (f"the only ranked entry on {_LABELS[key]}",)


def _compare(upper: tuple, lower: tuple, rank: int, above: bool) -> str:
    """One sentence on the first key that separates two adjacent ranked rows.

    Written from the upper row's side when ``above``, else from the lower row's side.
    """
    (upper_parts, upper_entry), (lower_parts, lower_entry) = upper, lower
    me, other = (upper_parts, lower_parts) if above else (lower_parts, upper_parts)
    other_id = lower_entry.entry_id if above else upper_entry.entry_id
    for i, (mine, theirs) in enumerate(zip(me, other)):
        if mine.sort == theirs.sort:
            continue
        if mine.name == "completeness":
            policy = "incomplete entries rank after complete ones"
            if above:
                return f"ranked above {other_id}, which is {_shown(theirs)}: {policy}"
            return f"ranked below {other_id}: {_shown(mine)}, and {policy}"
        equal = [f"{_LABELS[p.name]} ({_shown(p)})" for p in me[:i] if p.name != "completeness"]
        after = f" after equal {' and '.join(equal)}" if equal else ""
        side = "above" if above else "below"
        values = f"{_shown(mine)} vs {_shown(theirs)}"
        return f"ranked {side} {other_id} on {_LABELS[mine.name]} ({values}){after}"
    names = ", ".join(_LABELS[p.name] for p in me if p.name != "completeness")
    return f"shares rank {rank} with {other_id}: equal on {names}"


def _tie_reasons(
    ordered: Sequence[EntryScores],
    values: Sequence[tuple],
    variances: Sequence[float | None],
    index: int,
    tied_with: Sequence[int],
    count: int,
) -> tuple[str, ...]:
    """`statistical_tie_reasons` for row ``index`` (the combined SE as the tie test computed it)."""
    if not count:
        return ()
    var = variances[index]
    listed = [(ordered[j].entry_id, values[j][0], math.sqrt(var + variances[j])) for j in tied_with]
    return statistical_tie_reasons(values[index][0], listed, count)


def statistical_tie_reasons(score: float, ties: Sequence[tuple[str, float, float]], count: int) -> tuple[str, ...]:
    """The sentences `rank_entries` gives an entry for its statistical ties: one per listed tie
    ``(entry id, its key score, combined SE)``, and one for the rest of the ``count`` entries tied.

    ``score`` is the entry's own key score; the combined SE is ``math.sqrt(se**2 + other_se**2)``.
    """
    mine = f"{score:.4f}" if ties else ""
    listed = tuple(
        f"within 1 standard error of {entry_id} ({mine} vs {theirs:.4f}, combined SE {combined:.4f}): "
        "statistically tied"
        for entry_id, theirs, combined in ties
    )
    more = count - len(ties)
    if more > 0:
        listed += (f"also within 1 standard error of {more} more entries: statistically tied",)
    return listed
