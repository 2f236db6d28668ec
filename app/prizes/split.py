"""How a prize pool (and the compute allocation) is divided among the winners.

Pure rules over frozen dataclasses: standard library only, exact arithmetic
(``fractions.Fraction``) for every share, integer units for every amount.

The written remainder rule: each winner first receives the whole units of
their exact share; the units that division leaves go one each by the largest
remainder, ties in the remainder to the better rank, then to the smaller
entry id. Except under ``fixed``, the amounts add up to the quantity exactly
whenever there is at least one winner.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import groupby

FIXED = "fixed"
EQUAL = "equal"
RANK_WEIGHTED = "rank_weighted"
SCORE_PROPORTIONAL = "score_proportional"
POLICIES = (FIXED, EQUAL, RANK_WEIGHTED, SCORE_PROPORTIONAL)

LICENCE_VERDICTS = ("pass", "review", "fail")
DEFAULT_WEIGHTS = (40, 30, 20, 10)

Number = int | Fraction | Decimal | float


class InvalidSplitInput(ValueError):
    """The input cannot be split as given; ``problems`` names each problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class SplitRefused(Exception):
    """The split would break a rule; the organisers must decide first.

    ``reason`` says why in plain words; ``tied_ids`` names the entries tied at
    the cut-off (empty when the refusal is not about a tie).
    """

    def __init__(self, reason: str, tied_ids: Sequence[str] = ()):
        self.reason = reason
        self.tied_ids = tuple(tied_ids)
        super().__init__(reason)


@dataclass(frozen=True)
class PrizeEntry:
    """One ranked entry. Rank 1 is best; equal ranks are ties that survived every tie-break."""

    id: str
    rank: int
    score: Number
    eligible: bool
    licence: str
    forfeited: bool = False


@dataclass(frozen=True)
class Award:
    """What one winner receives, in the unit divided (cents for the prize, hours for compute)."""

    id: str
    rank: int
    amount: int


@dataclass(frozen=True)
class Exclusion:
    """An entry that could not win, and why in words a founder understands."""

    id: str
    reason: str


@dataclass(frozen=True)
class Split:
    """The outcome of dividing a quantity: awards in rank order (then id), what was left, who was excluded."""

    policy: str
    awards: tuple[Award, ...]
    total: int
    unawarded: int
    excluded: tuple[Exclusion, ...]


def split_prize(
    pool_cents: int,
    max_winners: int,
    policy: str,
    entries: Sequence[PrizeEntry],
    weights: Sequence[Number] = DEFAULT_WEIGHTS,
) -> Split:
    """Divide a prize pool in euro cents among the best-ranked candidates.

    Raises ``InvalidSplitInput`` for malformed input and ``SplitRefused`` when a
    tie at the cut-off or a non-positive score leaves the organisers to decide.
    """
    return divide(pool_cents, max_winners, policy, entries, weights, what="pool_cents")


def split_compute(
    hours_per_cluster: Mapping[str, int],
    max_winners: int,
    policy: str,
    entries: Sequence[PrizeEntry],
    weights: Sequence[Number] = DEFAULT_WEIGHTS,
) -> dict[str, Split]:
    """Divide integer GPU hours, cluster by cluster, with the same rules as the prize."""
    return {
        cluster: divide(hours, max_winners, policy, entries, weights, what=f"hours for {cluster}")
        for cluster, hours in hours_per_cluster.items()
    }


def divide(
    quantity: int,
    max_winners: int,
    policy: str,
    entries: Sequence[PrizeEntry],
    weights: Sequence[Number] = DEFAULT_WEIGHTS,
    what: str = "quantity",
) -> Split:
    """Divide any non-negative integer quantity among the winners; the one routine behind both splits."""
    _validate(quantity, max_winners, policy, entries, weights, what)
    candidates, excluded = partition_candidates(entries)
    winners = select_winners(candidates, max_winners)
    if not winners:
        return Split(policy, (), 0, quantity, excluded)
    shares = winner_shares(policy, winners, max_winners, weights)
    amounts = allocate(quantity, shares, winners, distribute_remainder=policy != FIXED)
    awards = tuple(Award(w.id, w.rank, a) for w, a in zip(winners, amounts))
    total = sum(amounts)
    return Split(policy, awards, total, quantity - total, excluded)


def exclusion_reasons(entry: PrizeEntry) -> list[str]:
    """Every reason this entry cannot win; empty when it is a candidate."""
    reasons = []
    if not entry.eligible:
        reasons.append("not eligible for the prize")
    if entry.licence == "review":
        reasons.append("licence still under review")
    elif entry.licence != "pass":
        reasons.append("licence check failed")
    if entry.forfeited:
        reasons.append("prize forfeited")
    return reasons


def partition_candidates(
    entries: Sequence[PrizeEntry],
) -> tuple[list[PrizeEntry], tuple[Exclusion, ...]]:
    """Split entries into candidates and exclusions, both in rank order (then id)."""
    candidates, excluded = [], []
    for entry in sorted(entries, key=_rank_order):
        reasons = exclusion_reasons(entry)
        if reasons:
            excluded.append(Exclusion(entry.id, "; ".join(reasons)))
        else:
            candidates.append(entry)
    return candidates, tuple(excluded)


def select_winners(candidates: Sequence[PrizeEntry], max_winners: int) -> list[PrizeEntry]:
    """The best-ranked candidates, at most ``max_winners``; refuse a tie at the cut-off."""
    ordered = sorted(candidates, key=_rank_order)
    if len(ordered) <= max_winners:
        return ordered
    last_in, first_out = ordered[max_winners - 1], ordered[max_winners]
    if last_in.rank == first_out.rank:
        tied = [c.id for c in ordered if c.rank == last_in.rank]
        raise SplitRefused(
            f"{len(tied)} entries are tied at rank {last_in.rank}, the cut-off for "
            f"{max_winners} winner(s); the organisers must break the tie",
            tied,
        )
    return ordered[:max_winners]


def winner_shares(
    policy: str, winners: Sequence[PrizeEntry], max_winners: int, weights: Sequence[Number]
) -> list[Fraction]:
    """Each winner's exact fraction of the quantity, in the winners' order."""
    if policy == FIXED:
        return [Fraction(1, max_winners)] * len(winners)
    if policy == EQUAL:
        return [Fraction(1, len(winners))] * len(winners)
    if policy == RANK_WEIGHTED:
        return _rank_weighted_shares(winners, weights)
    if policy == SCORE_PROPORTIONAL:
        return _score_shares(winners)
    raise InvalidSplitInput([f"unknown policy {policy!r}"])


def allocate(
    quantity: int,
    shares: Sequence[Fraction],
    winners: Sequence[PrizeEntry],
    distribute_remainder: bool = True,
) -> list[int]:
    """Whole units per winner: floors of the exact shares, then the rest by largest remainder.

    The remainder goes one unit each, largest remainder first, ties to the
    better rank, then to the smaller id. Without ``distribute_remainder``
    (the ``fixed`` policy) every winner keeps the floor and the rest stays unawarded.
    """
    exact = [quantity * share for share in shares]
    amounts = [math.floor(x) for x in exact]
    if not distribute_remainder:
        return amounts
    left = quantity - sum(amounts)
    order = sorted(
        range(len(winners)),
        key=lambda i: (-(exact[i] - amounts[i]), winners[i].rank, winners[i].id),
    )
    for i in order[:left]:
        amounts[i] += 1
    return amounts


def _rank_weighted_shares(winners: Sequence[PrizeEntry], weights: Sequence[Number]) -> list[Fraction]:
    """First ``len(winners)`` weights renormalised; tied winners share their positions' weights equally."""
    used = [to_fraction(w) for w in weights[: len(winners)]]
    whole = sum(used)
    shares: list[Fraction] = []
    position = 0
    for _, group in groupby(winners, key=lambda w: w.rank):
        size = len(list(group))
        together = sum(used[position : position + size])
        shares.extend([together / size / whole] * size)
        position += size
    return shares


def _score_shares(winners: Sequence[PrizeEntry]) -> list[Fraction]:
    """Shares in proportion to the final scores, which must all be positive."""
    scores = [to_fraction(w.score) for w in winners]
    not_positive = [w.id for w, s in zip(winners, scores) if s <= 0]
    if not_positive:
        raise SplitRefused(
            "a score-proportional split needs every winner's final score to be above zero; "
            f"not the case for {', '.join(not_positive)}"
        )
    whole = sum(scores)
    return [s / whole for s in scores]


def to_fraction(value: Number) -> Fraction:
    """An exact Fraction; floats are read through their shortest decimal form (0.1 is 1/10)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def _rank_order(entry: PrizeEntry) -> tuple[int, str]:
    return (entry.rank, entry.id)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction, Decimal, float)):
        return False
    return not isinstance(value, (float, Decimal)) or math.isfinite(value)


def _validate(quantity, max_winners, policy, entries, weights, what) -> None:
    """Collect one message per problem, then raise them together."""
    problems = []
    if not _is_int(quantity) or quantity < 0:
        problems.append(f"{what} must be a whole number, zero or more (got {quantity!r})")
    if not _is_int(max_winners) or max_winners < 1:
        problems.append(f"max_winners must be a whole number, at least 1 (got {max_winners!r})")
    if policy not in POLICIES:
        problems.append(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    if policy == RANK_WEIGHTED:
        problems.extend(_weight_problems(weights, max_winners))
    problems.extend(_entry_problems(entries))
    if problems:
        raise InvalidSplitInput(problems)


def _weight_problems(weights: Sequence[Number], max_winners: int) -> list[str]:
    """Weights must be positive, cover every prize position, and never grow down the ranking."""
    if not all(_is_number(w) and w > 0 for w in weights):
        return [f"every weight must be a number above zero (got {list(weights)!r})"]
    problems = []
    if _is_int(max_winners) and len(weights) < max_winners:
        problems.append(f"{len(weights)} weight(s) given for {max_winners} winner positions")
    values = [to_fraction(w) for w in weights]
    if any(later > earlier for earlier, later in zip(values, values[1:])):
        # Otherwise a better rank could receive less than a worse one.
        problems.append("weights must not increase from one position to the next")
    return problems


def _entry_problems(entries: Sequence[PrizeEntry]) -> list[str]:
    """One message per malformed entry field, and per repeated id."""
    problems, seen = [], set()
    for n, e in enumerate(entries, start=1):
        label = f"entry {n} ({e.id!r})"
        if not isinstance(e.id, str) or not e.id.strip():
            problems.append(f"entry {n} has no id")
        elif e.id in seen:
            problems.append(f"{label} repeats an id already used")
        else:
            seen.add(e.id)
        if not _is_int(e.rank) or e.rank < 1:
            problems.append(f"{label} has rank {e.rank!r}; ranks are whole numbers from 1")
        if not _is_number(e.score):
            problems.append(f"{label} has score {e.score!r}; it must be a finite number")
        if e.licence not in LICENCE_VERDICTS:
            problems.append(f"{label} has licence verdict {e.licence!r}; expected pass, review or fail")
    return problems
