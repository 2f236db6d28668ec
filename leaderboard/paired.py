"""Paired comparisons of entries from their kept per-item results: the board's adjacent rows and each entry
against the baselines (computed by the scheduler's snapshot step, never in a request), and one comparison of
two entries for the compare API, ``flask scores compare`` and the prize cut-off.

The statistics are pure (`scoring.paired`, `scoring.separation`); which evaluation counts for a team is
`evaluation.counted` (the one rule every reader follows); the per-item values come from the evaluation's kept
samples (`evaluation.archive.stored_items`). An evaluation recorded before samples were kept has none: the
board, the scorecard and the API say so with that reason, never a number.

The board's numbers are the overall test of `scoring.separation.overall_z` (normal approximation, the same
function a single comparison reports its p-value with, so they always agree); their 95% interval is
``difference +- 1.96 se``. A single comparison adds the paired-bootstrap interval and the per-task numbers.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import numpy as np
from sqlmodel import Session

from app.challenges.models import Challenge
from app.errors import DomainError, Kind
from evaluation.archive import stored_items, stored_run_id
from evaluation.counted import counted_entry, counted_evaluations
from evaluation.models import Evaluation
from evaluation.results import ResultsError
from scoring.config import TaskSpec
from scoring.paired import NotComparable, TaskItems, align, challenge_scales, compare_runs
from scoring.paired_json import report
from scoring.separation import Scale, distinguishable, overall_z

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile
_MEMO_LIMIT = 4_000  # evaluations whose per-item values stay in memory (their kept files never change)
_ITEMS: OrderedDict = OrderedDict()  # (storage, evaluation id, suite key) -> {task: TaskItems}
_NO_ITEMS_LIMIT = 200_000  # evaluations without kept per-item results: a sentence each
_NO_ITEMS: OrderedDict = OrderedDict()  # (storage, evaluation id, suite key) -> why there are none
_COMPARED_LIMIT = 500
_COMPARED: OrderedDict = OrderedDict()  # compare_entries' answers (a bootstrap of 10,000 resamples: worth keeping)


class CompareError(DomainError):
    """Two entries cannot be compared, by kind: not_found (no such entry), invalid (a bad request), conflict (an
    entry without a scored evaluation or without kept per-item results). The routes map the kind to a status."""

    def __init__(self, kind: Kind, detail: str) -> None:
        super().__init__(detail, kind=kind)
        self.detail = detail


def _suite_key(suite: Sequence[TaskSpec]) -> tuple:
    return tuple((t.name, t.lm_eval_task, t.metric) for t in suite)


def run_items(ev: Evaluation, suite: Sequence[TaskSpec], storage_dir: str | Path) -> dict[str, TaskItems] | str:
    """Every suite task's per-item values of an evaluation, or the reason in words why there are none.
    Memoised per evaluation (kept files are read-only and checked against their sha256 on the first read)."""
    key = (str(storage_dir), ev.id, _suite_key(suite))
    found = _remembered(key)
    if found is None:
        try:
            found = {spec.name: stored_items(ev, spec.name, storage_dir) for spec in suite}
        except OSError as exc:  # the storage unreachable for now: said, and tried again next time
            return f"the kept per-item results of evaluation {ev.id} cannot be read now ({exc.strerror or exc})"
        except (ResultsError, ValueError) as exc:  # SamplesError is a ResultsError
            found = str(exc)
        memo, limit = (_NO_ITEMS, _NO_ITEMS_LIMIT) if isinstance(found, str) else (_ITEMS, _MEMO_LIMIT)
        memo[key] = found
        if len(memo) > limit:
            memo.popitem(last=False)
    return found


def _remembered(key: tuple) -> dict[str, TaskItems] | str | None:
    """What `run_items` found before for ``key`` (None: nothing yet)."""
    if key in _ITEMS:
        _ITEMS.move_to_end(key)
        return _ITEMS[key]
    return _NO_ITEMS.get(key)


def items_of(
    session: Session, evaluation_ids: Sequence[int], suite: Sequence[TaskSpec], storage_dir: str | Path
) -> dict[int, dict[str, TaskItems] | str]:
    """`run_items` of many evaluations; only those not in memory are read from the database."""
    suite_key, storage = _suite_key(suite), str(storage_dir)
    found = {ev_id: _remembered((storage, ev_id, suite_key)) for ev_id in evaluation_ids}
    missing = [ev_id for ev_id, items in found.items() if items is None]
    for ev_id, ev in counted_evaluations(session, missing).items():
        found[ev_id] = run_items(ev, suite, storage_dir)
    return {
        ev_id: items if items is not None else f"evaluation {ev_id} is not recorded" for ev_id, items in found.items()
    }


# ------------------------------------------------------------------------------------ the board's numbers


@dataclass(frozen=True)
class Pair:
    upper: dict  # a row of the board's table
    lower: dict


def board_comparisons(
    session: Session, table: Sequence[dict], suite: Sequence[TaskSpec], storage_dir: str | Path
) -> dict[int, dict]:
    """Board position -> ``{"next": ..., "baselines": [...]}`` for every ranked entry: the comparison with the
    next ranked entry down (None for the last) and with each baseline. Each comparison is
    ``{"team_id", "team", "difference", "se", "ci95", "p", "distinguishable"}`` or, when it cannot be made,
    ``{"team_id", "team", "unavailable": reason}``."""
    if not suite:
        return {}
    ranked = [row for row in table if row["rank"] is not None and not row["is_baseline"]]
    baselines = [row for row in table if row["is_baseline"] and row["evaluation_id"] is not None]
    rows = ranked + baselines
    by_evaluation = items_of(session, [r["evaluation_id"] for r in rows if r["evaluation_id"]], suite, storage_dir)
    items = {r["position"]: by_evaluation.get(r["evaluation_id"], "the entry has no evaluation") for r in rows}
    pairs = [Pair(a, b) for a, b in zip(ranked, ranked[1:])]
    pairs += [Pair(a, b) for a in ranked for b in baselines]
    results = compare_pairs(pairs, items, suite)
    out: dict[int, dict] = {}
    for pair, result in zip(pairs, results):
        entry = out.setdefault(pair.upper["position"], {"next": None, "baselines": []})
        if pair.lower["is_baseline"]:
            entry["baselines"].append(result)
        else:
            entry["next"] = result
    return out


def compare_pairs(pairs: Sequence[Pair], items: Mapping[int, Any], suite: Sequence[TaskSpec]) -> list[dict]:
    """The overall paired test of each pair (upper minus lower), vectorised over the pairs that can be made."""
    scales = challenge_scales(suite, [t.name for t in suite])
    results: list[Optional[dict]] = []
    testable = []
    for pair in pairs:
        named = {"team_id": pair.lower["team_id"], "team": pair.lower["team"]}
        reason = _why_not(items[pair.upper["position"]], items[pair.lower["position"]], pair)
        results.append({**named, "unavailable": reason} if reason else None)
        if not reason:
            testable.append(len(results) - 1)
    if testable:
        slot: dict[int, int] = {}  # board position -> its row in the matrices (each run read once)
        for i in testable:
            for row in (pairs[i].upper, pairs[i].lower):
                slot.setdefault(row["position"], len(slot))
        runs = [items[position] for position in slot]
        upper = np.array([slot[pairs[i].upper["position"]] for i in testable])
        lower = np.array([slot[pairs[i].lower["position"]] for i in testable])
        overall = _test(runs, upper, lower, scales)
        for k, i in enumerate(testable):
            results[i] = {
                "team_id": pairs[i].lower["team_id"],
                "team": pairs[i].lower["team"],
                **_numbers(float(overall.difference[k]), float(overall.se[k]), float(overall.p_value[k])),
            }
    return results  # type: ignore[return-value]


def _why_not(a: Any, b: Any, pair: Pair) -> str:
    """Why a pair cannot be compared ("" when it can): no kept per-item results, or another task version."""
    for found, row in ((a, pair.upper), (b, pair.lower)):
        if isinstance(found, str):
            return f"{row['team']}: {found}"
    reasons = []
    for task in a:
        if a[task].task_hash != b[task].task_hash:
            try:
                align(a[task], b[task])
            except NotComparable as exc:
                reasons += exc.reasons
    return "; ".join(reasons)


def _test(runs: Sequence[Mapping[str, TaskItems]], upper: np.ndarray, lower: np.ndarray, scales: Mapping[str, Scale]):
    """`overall_z` of run ``upper[k]`` against run ``lower[k]``, each task's items aligned by doc_id in one
    (runs x items) matrix (NaN where a run lacks an item; stacked directly when every run has the same)."""
    tops, bottoms, valid = [], [], []
    names = sorted(scales)
    chain = (
        upper.size == len(runs) - 1
        and np.array_equal(upper, np.arange(upper.size))
        and np.array_equal(lower, upper + 1)
    )
    for task in names:
        first = runs[0][task].doc_ids
        if all(np.array_equal(run[task].doc_ids, first) for run in runs):  # the common case: no gaps
            matrix = np.stack([run[task].values for run in runs])
            if chain:  # each row against the next: views, no copies
                tops.append(matrix[:-1])
                bottoms.append(matrix[1:])
            else:
                tops.append(matrix[upper])
                bottoms.append(matrix[lower])
            valid.append(None)
            continue
        ids = np.unique(np.concatenate([run[task].doc_ids for run in runs]))
        matrix = np.full((len(runs), ids.size), np.nan)
        for k, run in enumerate(runs):
            matrix[k, np.searchsorted(ids, run[task].doc_ids)] = run[task].values
        top, bottom = matrix[upper], matrix[lower]
        both = ~(np.isnan(top) | np.isnan(bottom))
        tops.append(np.where(both, top, 0.0))
        bottoms.append(np.where(both, bottom, 0.0))
        valid.append(None if both.all() else both)
    return overall_z(tops, bottoms, [scales[t] for t in names], valid)


def _numbers(difference: float, se: float, p: float) -> dict:
    """A comparison's numbers as the board stores them (the interval: difference +- 1.96 se)."""
    finite_se = se if math.isfinite(se) else None
    p_value = p if math.isfinite(p) else None
    ci = [difference - Z95 * finite_se, difference + Z95 * finite_se] if finite_se is not None else None
    return {
        "difference": round(difference, 6),
        "se": None if finite_se is None else round(finite_se, 6),
        "ci95": None if ci is None else [round(v, 6) for v in ci],
        "p": None if p_value is None else float(f"{p_value:.4g}"),
        "distinguishable": distinguishable(p_value),
    }


# ------------------------------------------------------------------------------------ one comparison


@dataclass(frozen=True)
class Entry:
    """A team's counted entry that a comparison reads."""

    team_id: int
    team: str
    submission_id: int
    label: Optional[str]
    evaluation: Evaluation


def resolve_team(teams: Sequence[tuple[int, str]], text: Optional[str], which: str) -> tuple[int, str]:
    """(team id, name) of ENTRY: a team id (digits), else a team's exact name; CompareError otherwise."""
    text = (text or "").strip()
    if not text:
        raise CompareError(Kind.invalid, f"Name entry {which}: a team id or a team's exact name.")
    for team_id, name in teams:
        if (text.isdigit() and int(text) == team_id) or (not text.isdigit() and name == text):
            return team_id, name
    raise CompareError(Kind.not_found, f"Entry {which} ({text[:80]}) is not a team of this challenge.")


def entry_of(session: Session, challenge: Challenge, team: tuple[int, str], as_of: Optional[datetime]) -> Entry:
    """The team's counted entry as of ``as_of`` (`evaluation.counted.counted_entry`); CompareError when it has
    no scored evaluation."""
    counted = counted_entry(session, challenge, team[0], as_of)
    if counted.status != "scored" or counted.evaluation_id is None:
        why = "; ".join(counted.notes) or "no scored evaluation"
        raise CompareError(Kind.conflict, f"{team[1]} has no scored evaluation to compare ({why}).")
    evaluation = counted_evaluations(session, [counted.evaluation_id])[counted.evaluation_id]
    return Entry(team[0], team[1], counted.submission_id, counted.label, evaluation)


def compare_entries(
    a: Entry, b: Entry, suite: Sequence[TaskSpec], storage_dir: str | Path, *, hidden: Sequence[str] = (), seed: int = 0
) -> dict[str, Any]:
    """The JSON of ``scores paired`` for two entries over the whole suite (the overall is the benchmark
    score's difference); the per-task numbers of ``hidden`` tasks are left out (they still count in the
    overall, as in the score), with a note. CompareError when an entry has no kept per-item results."""
    if a.team_id == b.team_id:
        raise CompareError(
            Kind.invalid, "Name two different entries: an entry compared with itself differs by nothing."
        )
    key = (
        str(storage_dir),
        a.team_id,
        a.evaluation.id,
        b.team_id,
        b.evaluation.id,
        _suite_key(suite),
        tuple(hidden),
        seed,
    )
    found = _COMPARED.get(key)
    if found is None:  # the same inputs always give the same JSON: computed once per process
        found = _COMPARED[key] = _compare_entries(a, b, suite, storage_dir, hidden, seed)
        if len(_COMPARED) > _COMPARED_LIMIT:
            _COMPARED.popitem(last=False)
    return copy.deepcopy(found)


def _compare_entries(
    a: Entry, b: Entry, suite: Sequence[TaskSpec], storage_dir: str | Path, hidden: Sequence[str], seed: int
) -> dict[str, Any]:
    runs = []
    for entry in (a, b):
        found = run_items(entry.evaluation, suite, storage_dir)
        if isinstance(found, str):
            raise CompareError(Kind.conflict, f"{entry.team} cannot be compared item by item: {found}.")
        runs.append(found)
    try:
        comparison = compare_runs(
            runs[0],
            runs[1],
            run_a=stored_run_id(a.evaluation),
            run_b=stored_run_id(b.evaluation),
            scales=challenge_scales(suite, [t.name for t in suite]),
            seed=seed,
        )
    except NotComparable as exc:
        raise CompareError(
            Kind.conflict, "The entries cannot be compared item by item: " + "; ".join(exc.reasons)
        ) from None
    out = report(comparison)
    if hidden:
        out["tasks"] = {name: task for name, task in out["tasks"].items() if name not in hidden}
        out["notes"] = [note for note in out["notes"] if not any(name in note for name in hidden)]
        out["notes"].append(
            f"{len(hidden)} hidden task(s) count in the overall difference (as in the benchmark "
            "score); their own numbers are shown after the challenge ends"
        )
    out["entries"] = {
        key: {
            "team_id": e.team_id,
            "team": e.team,
            "submission_id": e.submission_id,
            "submission": e.label,
            "evaluation_id": e.evaluation.id,
        }
        for key, e in (("a", a), ("b", b))
    }
    out["distinguishable"] = distinguishable(out["overall"]["p_value"])
    return out


def scorecard_comparisons(rows: Sequence[dict], row: dict) -> list[dict]:
    """What an entry's scorecard shows from a stored board (``rows`` in position order): the entry against the
    ranked entry above it, the one below it and each baseline, each as ``{"relation", "team_id", "team", ...}``
    with the numbers from the entry's side (difference = this entry minus the other). Empty for a row without
    comparisons (a baseline, an unranked entry, or a board computed without the kept samples)."""
    if not row.get("paired"):
        return []
    out = []
    above = next(
        (r for r in rows if r.get("paired") and (r["paired"].get("next") or {}).get("team_id") == row["team_id"]), None
    )
    if above is not None:
        out.append(
            {
                **_mirrored(above["paired"]["next"]),
                "team_id": above["team_id"],
                "team": above["team"],
                "relation": "the entry above",
            }
        )
    if row["paired"].get("next"):
        out.append({**row["paired"]["next"], "relation": "the entry below"})
    out += [{**c, "relation": "baseline"} for c in row["paired"].get("baselines", [])]
    return out


def _mirrored(numbers: dict) -> dict:
    """A stored comparison seen from the other entry: the difference and its interval change sign."""
    if "unavailable" in numbers:
        return dict(numbers)
    ci = numbers.get("ci95")
    return {**numbers, "difference": -numbers["difference"], "ci95": None if ci is None else [-ci[1], -ci[0]]}


def without_hidden(text: str, hidden: Sequence[str]) -> str:
    """A sentence with hidden task names replaced (longest first), for the public."""
    for name in sorted(hidden, key=len, reverse=True):
        text = text.replace(name, "a hidden task")
    return text


def public_comparisons(comparisons: Optional[dict], hidden: Sequence[str]) -> Optional[dict]:
    """A row's stored comparisons with hidden task names scrubbed from the reasons a comparison was not made
    (a refusal can name the task whose versions differ)."""
    if not comparisons or not hidden:
        return comparisons

    def scrub(c):
        return (
            c if c is None or "unavailable" not in c else {**c, "unavailable": without_hidden(c["unavailable"], hidden)}
        )

    return {"next": scrub(comparisons.get("next")), "baselines": [scrub(c) for c in comparisons.get("baselines", [])]}
