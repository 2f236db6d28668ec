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
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class _KeyPart:
    """One key of the sort: its name, its sortable value and how it reads in a reason."""

    name: str
    sort: tuple
    shown: str


def rank_entries(
    entries: Sequence[EntryScores],
    policy: RankingPolicy,
    key: str = "final_score",
    *,
    max_listed_ties: int | None = None,
) -> tuple[RankedEntry, ...]:
    """Order ``entries`` by ``key`` under ``policy`` and explain each place.

    ``key`` is ``final_score``, or ``benchmark_score`` for the public board before
    judging, or ``judges_score``. Raises ValueError for an unknown key or repeated ids.
    ``max_listed_ties`` caps how many statistically tied entries each row lists (the
    nearest ones, with one sentence for the rest); ``statistically_tied_count`` is
    always the full count. On a board of thousands, each entry can be within one
    standard error of hundreds of others, and listing them all would be noise.
    """
    if key not in SCORE_KEYS:
        raise ValueError(f"unknown ranking key {key!r}; use one of {', '.join(SCORE_KEYS)}")
    ids = [entry.entry_id for entry in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("entry ids must be unique")
    rows = sorted(((_key_parts(e, policy, key), e) for e in entries), key=lambda r: _sort_key(r[0]))
    ranks = _competition_ranks(rows, key)
    ordered = [entry for _, entry in rows]
    tied_with, tied_counts = _statistical_ties(ordered, key, max_listed_ties)
    groups = _tie_groups(ordered, key)
    ranked = [i for i, rank in enumerate(ranks) if rank is not None]
    place = {index: here for here, index in enumerate(ranked)}
    return tuple(
        RankedEntry(
            entry_id=entry.entry_id,
            position=index + 1,
            rank=ranks[index],
            is_baseline=entry.is_baseline,
            score=entry.score(key)[0],
            stderr=entry.score(key)[1],
            complete=entry.complete,
            statistically_tied_with=tuple(other.entry_id for other, _ in tied_with[index]),
            tie_group=groups[index],
            reasons=_reasons(rows, ranks, ranked, place, index, key)
            + _tie_reasons(entry, tied_with[index], tied_counts[index], key),
            statistically_tied_count=tied_counts[index],
        )
        for index, (_, entry) in enumerate(rows)
    )


def _key_parts(entry: EntryScores, policy: RankingPolicy, key: str) -> tuple[_KeyPart, ...]:
    """The sort keys of one entry, in policy order (see the module docstring)."""
    parts = []
    if key in _BENCHMARK_KEYS:
        parts.append(_KeyPart("completeness", (not entry.complete,), _completeness(entry)))
    parts.append(_score_part(entry, key))
    for name in policy.tie_break:
        if name == "earlier_submission":
            when = entry.submitted_at
            sort = (True, 0) if when is None else (False, when)
            parts.append(_KeyPart(name, sort, "unknown" if when is None else when.isoformat()))
        elif name != key:
            parts.append(_score_part(entry, name))
    if policy.break_ties_by_entry_id:
        parts.append(_KeyPart("entry_id", (entry.entry_id,), entry.entry_id))
    return tuple(parts)


def _score_part(entry: EntryScores, name: str) -> _KeyPart:
    """A higher-wins score key; a missing score sorts after every present one."""
    value, _ = entry.score(name)
    if value is None:
        return _KeyPart(name, (True, 0.0), "none yet")
    return _KeyPart(name, (False, -value), f"{value:.4f}")


def _completeness(entry: EntryScores) -> str:
    """How an entry's benchmark coverage reads in a reason."""
    if entry.benchmark is None:
        return "missing every task"
    if entry.benchmark.complete:
        return "all tasks"
    return "missing " + ", ".join(entry.benchmark.missing_tasks)


def _sort_key(parts: Sequence[_KeyPart]) -> tuple:
    """The tuple the rows are sorted by."""
    return tuple(part.sort for part in parts)


def _competition_ranks(rows: Sequence[tuple], key: str) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) over scored non-baseline rows; None for the rest."""
    ranks: list[int | None] = []
    ranked = 0
    previous: tuple | None = None
    for parts, entry in rows:
        if entry.is_baseline or entry.score(key)[0] is None:
            ranks.append(None)
            continue
        ranked += 1
        sort_key = _sort_key(parts)
        same = previous is not None and sort_key == previous[0]
        ranks.append(previous[1] if same else ranked)
        previous = (sort_key, ranks[-1])
    return ranks


def _within_stderr(a: EntryScores, b: EntryScores, key: str) -> float | None:
    """The combined stderr when ``a`` and ``b`` are statistically tied on ``key``, else None.

    Needs both scores and both stderrs; entries on different sides of the completeness
    split are never tied, since the policy, not the noise, separates them.
    """
    (value_a, se_a), (value_b, se_b) = a.score(key), b.score(key)
    if None in (value_a, se_a, value_b, se_b):
        return None
    if key in _BENCHMARK_KEYS and a.complete != b.complete:
        return None
    combined = math.sqrt(se_a**2 + se_b**2)
    return combined if abs(value_a - value_b) < combined else None


def _statistical_ties(
    ordered: Sequence[EntryScores], key: str, limit: int | None
) -> tuple[list[list[tuple]], list[int]]:
    """For each row, the other rows it is statistically tied with (with the combined SE),
    the nearest ``limit`` of them when capped, and the full count.

    Rows are sorted by the key score within each completeness side, so a sweep from each
    row stops at the first row further away than the widest combined SE possible there:
    the cost grows with the number of ties, not with the square of the board. The test
    is the one `_within_stderr` states, inlined because boards have thousands of rows.
    """
    n = len(ordered)
    values = [entry.score(key) for entry in ordered]
    sides = [entry.complete if key in _BENCHMARK_KEYS else True for entry in ordered]
    variances = [None if v is None or se is None else se**2 for v, se in values]
    widest = max((var for var in variances if var is not None), default=0.0)
    before: list = [deque(maxlen=limit) if limit is not None else [] for _ in range(n)]
    after: list[list[int]] = [[] for _ in range(n)]
    counts = [0] * n
    for i in range(n):
        var_i = variances[i]
        if var_i is None:
            continue
        value_i, side_i, reach = values[i][0], sides[i], var_i + widest
        for j in range(i + 1, n):
            value_j = values[j][0]
            if value_j is None or (value_i - value_j) ** 2 >= reach:
                break
            var_j = variances[j]
            if var_j is None or sides[j] != side_i or abs(value_i - value_j) >= math.sqrt(var_i + var_j):
                continue
            counts[i] += 1
            counts[j] += 1
            if limit is None or len(after[i]) < limit:
                after[i].append(j)
            before[j].append(i)
    ties = []
    for i in range(n):
        found = list(before[i]) + after[i]
        if limit is not None and len(found) > limit:
            found = sorted(sorted(found, key=lambda j: abs(j - i))[:limit])
        ties.append([(ordered[j], _within_stderr(ordered[i], ordered[j], key)) for j in found])
    return ties, counts


def _tie_groups(ordered: Sequence[EntryScores], key: str) -> list[int | None]:
    """Number runs of rows each within combined SE of the row above; lone rows get None."""
    run_of: list[int] = []
    for i, entry in enumerate(ordered):
        chained = i > 0 and _within_stderr(ordered[i - 1], entry, key) is not None
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
        return ("baseline model (organiser reference): listed at its score position, "
                "takes no rank and does not push entries down",)
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
                return f"ranked above {other_id}, which is {theirs.shown}: {policy}"
            return f"ranked below {other_id}: {mine.shown}, and {policy}"
        equal = [f"{_LABELS[p.name]} ({p.shown})" for p in me[:i] if p.name != "completeness"]
        after = f" after equal {' and '.join(equal)}" if equal else ""
        side = "above" if above else "below"
        values = f"{mine.shown} vs {theirs.shown}"
        return f"ranked {side} {other_id} on {_LABELS[mine.name]} ({values}){after}"
    names = ", ".join(_LABELS[p.name] for p in me if p.name != "completeness")
    return f"shares rank {rank} with {other_id}: equal on {names}"


def _tie_reasons(
    entry: EntryScores, tied_with: Sequence[tuple], count: int, key: str
) -> tuple[str, ...]:
    """One sentence per listed entry this one is statistically tied with, and one for the rest."""
    value = entry.score(key)[0]
    listed = tuple(
        f"within 1 standard error of {other.entry_id} ({value:.4f} vs "
        f"{other.score(key)[0]:.4f}, combined SE {combined:.4f}): statistically tied"
        for other, combined in tied_with
    )
    more = count - len(tied_with)
    if more > 0:
        listed += (f"also within 1 standard error of {more} more entries: statistically tied",)
    return listed
