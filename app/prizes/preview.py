"""The award preview: from the ranked candidates and the prize rules to who is in, who is out and why.

Pure rules, standard library and `app.prizes.split` only. The shell (`app.prizes.services`) gathers each
candidate's facts (rank and final score from the frozen board, eligibility, licence verdict re-checked,
forfeits) and an organiser's tie-break order; this module turns them into `PrizeEntry` values, runs
`split_prize` and `split_compute`, and returns the rows a page shows and the payload an award records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Optional

from app.prizes.chain import GENESIS_HASH, record_hash
from scoring.separation import distinguishable
from app.prizes.split import (
    DEFAULT_WEIGHTS,
    InvalidSplitInput,
    PrizeEntry,
    SplitRefused,
    split_compute,
    split_prize,
)
from scoring import StderrNote, stderr_note

BASELINE_REASON = "a baseline (reference model): baselines never win"


@dataclass(frozen=True)
class Candidate:
    """One team on the final ranking with the facts the award needs; ``rank`` None means unranked."""

    team_id: int
    team: str
    is_baseline: bool
    rank: Optional[int]
    score: Optional[float]
    submission_id: Optional[int]
    eligibility: str  # eligible | needs_review | ineligible | not_applied
    eligibility_words: str
    licence: Optional[str]  # pass | review | fail, None when never checked
    forfeit: Optional[str] = None  # why the team forfeited, None when it did not
    unranked: str = ""  # why the team has no rank, when it has none
    score_se: Optional[float] = None  # the final score's standard error, and the parts' (why it may have none)
    benchmark_se: Optional[float] = None
    judges: Optional[float] = None
    judges_se: Optional[float] = None
    se_recorded: bool = True  # False for a ranking an award recorded before standard errors were kept


@dataclass(frozen=True)
class PrizeRules:
    """The challenge's prize rules (`[prize]`), in cents and whole GPU hours."""

    pool_cents: int
    max_winners: int
    policy: str
    weights: tuple = DEFAULT_WEIGHTS
    compute_hours: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PreviewRow:
    """One candidate as the preview shows it: in (with amounts) or out, and why."""

    team_id: int
    team: str
    rank: Optional[int]
    score: Optional[float]
    status: str  # "in" | "out" | "tied"
    why: str
    amount_cents: int = 0
    gpu_hours: Mapping[str, int] = field(default_factory=dict)
    score_se: Optional[float] = None
    no_se: Optional[StderrNote] = None  # why the final score has no ±, when it has none


@dataclass(frozen=True)
class Preview:
    """The outcome: rows and the payload to record, or a refusal (with the tied teams) for the organisers."""

    rows: tuple[PreviewRow, ...]
    payload: Mapping[str, Any]
    refused: Optional[str] = None
    tied: tuple[int, ...] = ()
    cut_off: str = ""  # the paired test at the prize cut-off, in words (`settle_cut_off`)

    @property
    def fingerprint(self) -> str:
        """A hash of the payload: a confirmation must match the preview the organiser looked at."""
        return record_hash(GENESIS_HASH, self.payload)

    @property
    def winners(self) -> tuple[PreviewRow, ...]:
        return tuple(row for row in self.rows if row.status == "in")


def compute_preview(candidates: Sequence[Candidate], rules: PrizeRules, tie_order: Sequence[int] = ()) -> Preview:
    """Split the pool and the compute among the candidates; a refusal names the tied teams."""
    ranks = apply_tie_order(candidates, tie_order)
    entries = [_entry(c, ranks[c.team_id]) for c in candidates if c.team_id in ranks]
    weights = tuple(rules.weights) or DEFAULT_WEIGHTS
    try:
        money = split_prize(rules.pool_cents, rules.max_winners, rules.policy, entries, weights)
        hours = split_compute(dict(rules.compute_hours), rules.max_winners, rules.policy, entries, weights)
    except SplitRefused as refusal:
        return _refused(candidates, ranks, refusal.reason, refusal.tied_ids, rules, tie_order)
    except InvalidSplitInput as invalid:
        reason = "the prize rules cannot be applied: " + "; ".join(invalid.problems)
        return _refused(candidates, ranks, reason, (), rules, tie_order)
    amounts = {a.id: a.amount for a in money.awards}
    gpu = {name: {a.id: a.amount for a in split.awards} for name, split in hours.items()}
    rows = tuple(_row(c, ranks.get(c.team_id), amounts, gpu, rules) for c in candidates)
    payload = _payload(candidates, rows, rules, tie_order)
    payload.update(
        total_cents=money.total,
        unawarded_cents=money.unawarded,
        unawarded_hours={name: split.unawarded for name, split in hours.items()},
    )
    return Preview(rows, payload)


def apply_tie_order(candidates: Sequence[Candidate], order: Sequence[int]) -> dict[int, int]:
    """Team id -> rank for every ranked entry, with tied groups split in the organisers' order.

    Within a group sharing a rank, the teams the decision lists take consecutive ranks in its order; any it
    does not list share the rank after them. Ranks of other groups are unchanged (competition ranks leave
    room: a group of k at rank r is followed by rank r + k).
    """
    ranked = [c for c in candidates if c.rank is not None and not c.is_baseline]
    ranks = {c.team_id: c.rank for c in ranked}
    position = {team_id: i for i, team_id in enumerate(order)}
    for rank in {c.rank for c in ranked}:
        group = [c.team_id for c in ranked if c.rank == rank]
        listed = sorted((t for t in group if t in position), key=position.__getitem__)
        if len(group) < 2 or not listed:
            continue
        for offset, team_id in enumerate(listed):
            ranks[team_id] = rank + offset
        for team_id in group:
            if team_id not in position:
                ranks[team_id] = rank + len(listed)
    return ranks


def exclusion_reason(candidate: Candidate) -> str:
    """Why a ranked candidate cannot win, in words; empty when it can."""
    reasons = []
    if candidate.eligibility != "eligible":
        reasons.append(f"not eligible for the prize (eligibility: {candidate.eligibility_words})")
    if candidate.licence is None:
        reasons.append("licence not checked yet")
    elif candidate.licence == "review":
        reasons.append("licence still under review")
    elif candidate.licence != "pass":
        reasons.append("licence check failed")
    if candidate.forfeit:
        reasons.append(f"prize forfeited: {candidate.forfeit}")
    return "; ".join(reasons)


def _entry(candidate: Candidate, rank: int) -> PrizeEntry:
    licence = candidate.licence if candidate.licence in ("pass", "review", "fail") else "review"
    return PrizeEntry(
        id=candidate.team,
        rank=rank,
        score=candidate.score or 0.0,
        eligible=candidate.eligibility == "eligible",
        licence=licence,
        forfeited=bool(candidate.forfeit),
    )


def _row(
    candidate: Candidate,
    rank: Optional[int],
    amounts: Mapping[str, int],
    gpu: Mapping[str, Mapping[str, int]],
    rules: PrizeRules,
) -> PreviewRow:
    """The candidate's row: in with its amounts, or out with the first reason that applies."""
    base = dict(
        team_id=candidate.team_id,
        team=candidate.team,
        rank=rank,
        score=candidate.score,
        score_se=candidate.score_se,
        no_se=_no_se(candidate),
    )
    if candidate.team in amounts:
        hours = {name: split.get(candidate.team, 0) for name, split in gpu.items()}
        return PreviewRow(
            **base,
            status="in",
            why=f"rank {rank}: within the {rules.max_winners} prize position(s) and every condition met",
            amount_cents=amounts[candidate.team],
            gpu_hours=hours,
        )
    return PreviewRow(**base, status="out", why=_out_reason(candidate, rank, rules))


def _no_se(candidate: Candidate) -> Optional[StderrNote]:
    """Why the candidate's final score has no ±, as every page says it (`scoring.stderr_note`)."""
    if not candidate.se_recorded:
        return StderrNote("not recorded", "No ±: this award's ranking was recorded before standard errors were.")
    return stderr_note(
        candidate.score,
        candidate.score_se,
        benchmark_stderr=candidate.benchmark_se,
        judges=candidate.judges,
        judges_stderr=candidate.judges_se,
    )


def _out_reason(candidate: Candidate, rank: Optional[int], rules: PrizeRules) -> str:
    if candidate.is_baseline:
        return BASELINE_REASON
    if rank is None:
        return f"not ranked: {candidate.unranked or 'no final score'}"
    return exclusion_reason(candidate) or (
        f"ranked below the {rules.max_winners} prize position(s): better-ranked entries met every condition"
    )


def _refused(candidates, ranks, reason, tied_names, rules, tie_order) -> Preview:
    """A preview the organisers must settle first: the tied teams are marked."""
    tied_names = set(tied_names)
    rows = tuple(_waiting_row(c, ranks.get(c.team_id), c.team in tied_names, rules) for c in candidates)
    tied = tuple(c.team_id for c in candidates if c.team in tied_names)
    return Preview(rows, _payload(candidates, rows, rules, tie_order), refused=reason, tied=tied)


def _waiting_row(candidate: Candidate, rank: Optional[int], tied: bool, rules: PrizeRules) -> PreviewRow:
    """A row of a refused preview: tied, out (with its reason), or waiting for the decision."""
    row = _row(candidate, rank, {}, {}, rules)
    if tied:
        return replace(row, status="tied", why="tied at the prize cut-off")
    if rank is not None and not candidate.is_baseline and not exclusion_reason(candidate):
        return replace(row, status="pending", why="meets every condition; amounts wait for the organisers' decision")
    return row


def _payload(candidates, rows, rules: PrizeRules, tie_order) -> dict[str, Any]:
    """What an award records: the rules, the awards, the exclusions and the ranking snapshot used."""
    return {
        "policy": rules.policy,
        "pool_cents": rules.pool_cents,
        "max_winners": rules.max_winners,
        "weights": [float(w) for w in (rules.weights or DEFAULT_WEIGHTS)],
        "compute_hours": dict(rules.compute_hours),
        "awards": [
            {
                "team_id": r.team_id,
                "team": r.team,
                "rank": r.rank,
                "score": r.score,
                "submission_id": _submission(candidates, r.team_id),
                "amount_cents": r.amount_cents,
                "gpu_hours": dict(r.gpu_hours),
            }
            for r in rows
            if r.status == "in"
        ],
        "excluded": [{"team_id": r.team_id, "team": r.team, "reason": r.why} for r in rows if r.status != "in"],
        "ranking": [asdict(c) for c in candidates],
        "tie_break": list(tie_order) or None,
    }


def _submission(candidates: Sequence[Candidate], team_id: int) -> Optional[int]:
    return next((c.submission_id for c in candidates if c.team_id == team_id), None)


def candidates_from_snapshot(ranking: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """The candidates an earlier award recorded (its ranking snapshot), for a re-run."""
    names = set(Candidate.__dataclass_fields__)
    candidates = []
    for item in ranking:
        known = {k: v for k, v in item.items() if k in names}
        known.setdefault("se_recorded", "score_se" in item)  # older awards did not record standard errors
        candidates.append(Candidate(**known))
    return candidates


# ------------------------------------------------------------------ the cut-off, tested item by item


@dataclass(frozen=True)
class CutOffTest:
    """The paired comparison of the last winner with the first entry below it that meets every condition,
    on the benchmark score (difference = last winner minus the other); ``unavailable`` says why there are no
    numbers (an evaluation recorded before per-item results were kept)."""

    last_winner: int
    first_out: int
    p_value: Optional[float] = None
    difference: Optional[float] = None
    ci95: Optional[tuple[float, float]] = None
    unavailable: str = ""


def cut_off_pair(preview: Preview, candidates: Sequence[Candidate]) -> Optional[tuple[int, int]]:
    """(team id of the last winner, team id of the best-ranked entry below it that meets every condition):
    the entry that would win in its place. None when the preview is refused, has no winner, or nobody below
    could win (an excluded entry could not take the place, so its comparison decides nothing)."""
    if preview.refused or not preview.winners:
        return None
    last = max(preview.winners, key=lambda row: row.rank)
    facts = {c.team_id: c for c in candidates}
    below = sorted(
        (
            row
            for row in preview.rows
            if row.status == "out"
            and row.rank is not None
            and row.rank > last.rank
            and not facts[row.team_id].is_baseline
            and not exclusion_reason(facts[row.team_id])
        ),
        key=lambda row: row.rank,
    )
    return (last.team_id, below[0].team_id) if below else None


def settle_cut_off(
    preview: Preview,
    candidates: Sequence[Candidate],
    rules: PrizeRules,
    tie_order: Sequence[int],
    test: Optional[CutOffTest],
) -> Preview:
    """The rule at the prize cut-off: the last winner must be distinguishable from the entry that would win in
    its place (paired, p < 0.05, on the benchmark score). If it is not, the preview is held, naming both with
    the numbers, until the organisers' tie-break decision orders the two (the existing decision, which then
    decides: listing the other entry first gives it the place). Without per-item results the preview says the
    cut-off could not be tested and goes ahead. The outcome is in ``cut_off`` and in the recorded payload."""
    if test is None:
        return preview
    names = {c.team_id: c.team for c in candidates}
    ranks = {row.team_id: row.rank for row in preview.rows}
    last, first_out = test.last_winner, test.first_out
    pair = f"rank {ranks[last]} ({names[last]}) and rank {ranks[first_out]} ({names[first_out]})"
    if test.unavailable:
        return _with_cut_off(
            preview, f"The cut-off between {pair} could not be tested item by item: {test.unavailable}."
        )
    numbers = _cut_off_numbers(test)
    if distinguishable(test.p_value):
        return _with_cut_off(preview, f"The cut-off stands: {pair} are distinguishable ({numbers}).")
    order = list(tie_order)
    if last in order and first_out in order:
        if order.index(first_out) < order.index(last):  # the organisers gave the place to the other entry
            swapped = [
                replace(c, rank=ranks[last])
                if c.team_id == first_out
                else replace(c, rank=ranks[first_out])
                if c.team_id == last
                else c
                for c in candidates
            ]
            preview = compute_preview(swapped, rules, tie_order)
        return _with_cut_off(
            preview,
            f"{pair.capitalize()} cannot be told apart ({numbers}); the organisers' tie-break decision orders them.",
        )
    reason = (
        f"{pair} cannot be told apart ({numbers}): the award cannot be confirmed until the organisers "
        "record their tie-break decision ordering the two"
    )
    rows = tuple(_held_row(row, (last, first_out)) for row in preview.rows)
    words = reason[0].upper() + reason[1:]
    payload = {**_payload(candidates, rows, rules, tie_order), "cut_off": words}
    return Preview(rows, payload, refused=words, tied=(last, first_out), cut_off=words)


def _held_row(row: PreviewRow, pair: tuple[int, int]) -> PreviewRow:
    """A row of a preview held at the cut-off: the two entries tied, the other winners waiting."""
    if row.team_id in pair:
        return PreviewRow(
            row.team_id,
            row.team,
            row.rank,
            row.score,
            "tied",
            "cannot be told apart at the prize cut-off (paired, on the benchmark score)",
        )
    if row.status == "in":
        return PreviewRow(
            row.team_id,
            row.team,
            row.rank,
            row.score,
            "pending",
            "meets every condition; amounts wait for the organisers' decision",
        )
    return row


def _with_cut_off(preview: Preview, words: str) -> Preview:
    return replace(preview, payload={**preview.payload, "cut_off": words}, cut_off=words)


def _cut_off_numbers(test: CutOffTest) -> str:
    parts = []
    if test.difference is not None:
        parts.append(f"difference {test.difference:.4f}")
    if test.ci95 is not None:
        parts.append(f"95% interval {test.ci95[0]:.4f} to {test.ci95[1]:.4f}")
    parts.append(f"p = {test.p_value:.3g}" if test.p_value is not None else "p undefined")
    return ", ".join(parts)
