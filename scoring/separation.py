"""Which runs the data can tell apart: the overall paired test, every board row against the next one down,
and the prize boundary. Pure numpy; the board's comparisons are vectorised over all its rows at once.

The overall score of a run is ``sum_t share_t * N_t(mean_t)``, where N_t is the challenge's normalisation of
task t (``scoring.normalise``: rescaled against its baseline, clipped at chance) or the identity. The paired
difference of two runs, over the items both have, is tested with the normal approximation and the delta
method: each item of task t contributes ``c_j = g_a * a_j - g_b * b_j`` with ``g = share_t * N_t'(mean)``
(``1 / (1 - baseline)`` above chance, 0 when clipped), ``se^2 = sum_t var(c) / n_t`` (n - 1 denominator) and
``p = erfc(|difference| / (se * sqrt(2)))``. With 1,000 items a task this is what the paired bootstrap
approximates, and it costs one pass over the items, so the board (every adjacent pair) and a single
comparison (``scoring.paired``) use this same function and always agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scoring.normalise import CHANCE, rescale
from scoring.significance import ALPHA


@dataclass(frozen=True)
class Scale:
    """A task's place in the overall score: its share, and its baseline (None: the raw mean, unnormalised)."""

    share: float
    baseline: float | None = None


def scaled_score(mean, scale: Scale):
    """A task's contribution to the overall score: ``share * N(mean)`` (float or numpy array)."""
    if scale.baseline is None:
        return scale.share * mean
    return scale.share * np.maximum(rescale(mean, scale.baseline), CHANCE)


def _slope(mean: np.ndarray, scale: Scale) -> np.ndarray:
    """d(scaled_score)/d(mean): the share over the span above chance, 0 where the score is clipped."""
    if scale.baseline is None:
        return np.full_like(mean, scale.share)
    return np.where(rescale(mean, scale.baseline) < CHANCE, 0.0, scale.share / (1.0 - scale.baseline))


@dataclass(frozen=True, eq=False)
class Overall:
    """Overall scores of the upper (``a``) and lower (``b``) run of each pair, their difference, the
    difference's standard error and its two-sided p-value (NaN where undefined: fewer than two items, or
    no variation between items although the scores differ)."""

    a: np.ndarray
    b: np.ndarray
    difference: np.ndarray
    se: np.ndarray
    p_value: np.ndarray


def overall_z(
    upper: Sequence[np.ndarray],
    lower: Sequence[np.ndarray],
    scales: Sequence[Scale],
    valid: Sequence[np.ndarray | None] | None = None,
) -> Overall:
    """The paired test of the overall score for P pairs: ``upper[t]`` and ``lower[t]`` are (P x n_t) arrays of
    task t's per-item values, aligned by item; ``valid[t]`` marks the items both runs of a pair have (None:
    all of them)."""
    size = upper[0].shape[0]
    a, b, variance = np.zeros(size), np.zeros(size), np.zeros(size)
    for t, (x, y, scale) in enumerate(zip(upper, lower, scales)):
        mask = None if valid is None else valid[t]
        sa, sb, var = _task_terms(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), scale, mask)
        a, b, variance = a + sa, b + sb, variance + var
    difference = a - b
    se = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(difference) / se
    p = np.array([math.erfc(v / math.sqrt(2.0)) if math.isfinite(v) else math.nan for v in z.tolist()])
    p[(se == 0.0) & (difference == 0.0)] = 1.0
    return Overall(a, b, difference, se, p)


def _task_terms(
    x: np.ndarray, y: np.ndarray, scale: Scale, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One task's scaled scores of both runs and the variance of their difference, per pair."""
    if mask is None:
        n = np.full(x.shape[0], x.shape[1], dtype=np.float64)
        mx, my = x.mean(axis=1), y.mean(axis=1)
        c = _slope(mx, scale)[:, None] * (x - mx[:, None]) - _slope(my, scale)[:, None] * (y - my[:, None])
    else:
        n = mask.sum(axis=1).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            mx, my = np.where(mask, x, 0.0).sum(axis=1) / n, np.where(mask, y, 0.0).sum(axis=1) / n
        c = _slope(mx, scale)[:, None] * (x - mx[:, None]) - _slope(my, scale)[:, None] * (y - my[:, None])
        c = np.where(mask, c, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 1, (c * c).sum(axis=1) / (n - 1) / n, math.nan)
    return scaled_score(mx, scale), scaled_score(my, scale), var


def neighbours(matrices: Mapping[str, np.ndarray], scales: Mapping[str, Scale]) -> Overall:
    """Every board row against the next one down, on the overall score.

    ``matrices[task]`` is a (rows x items) array of the per-item values in board order, the columns aligned
    by item (NaN where a run lacks the item); entry i of the result compares row i with row i + 1.
    """
    names = sorted(matrices)
    if not names:
        raise ValueError("no task to compare")
    upper, lower, valid = [], [], []
    for name in names:
        values = np.asarray(matrices[name], dtype=np.float64)
        upper.append(values[:-1])
        lower.append(values[1:])
        missing = np.isnan(values)
        valid.append(~(missing[:-1] | missing[1:]) if missing.any() else None)
    return overall_z(upper, lower, [scales[name] for name in names], valid)


def distinguishable(p_value: float | None, alpha: float = ALPHA) -> bool:
    """Whether a paired comparison tells the two runs apart: p below alpha (an undefined p does not)."""
    return p_value is not None and not math.isnan(p_value) and p_value < alpha


def row_distinguishable(board: Overall, row: int, alpha: float = ALPHA) -> bool:
    """Is board row ``row`` (0-based) distinguishable from the row below it? The last row has none below."""
    if not 0 <= row < board.p_value.size:
        return False
    return distinguishable(float(board.p_value[row]), alpha)


@dataclass(frozen=True)
class BoundaryVerdict:
    """Whether the prize cut-off stands on the data, with the reasons in words."""

    decided: bool
    last_winner: str | None
    first_non_winner: str | None
    reasons: tuple[str, ...]


def prize_boundary(order: Sequence[str], places: int) -> tuple[str, str] | None:
    """The last entry that wins and the first that does not, in rank order; None when there is no cut-off
    (every entry wins, or no place is awarded)."""
    if places <= 0 or len(order) <= places:
        return None
    return order[places - 1], order[places]


def boundary_verdict(
    order: Sequence[str],
    places: int,
    p_value: float | None,
    difference: float | None = None,
    ci95: tuple[float, float] | None = None,
    alpha: float = ALPHA,
) -> BoundaryVerdict:
    """The rule at the prize cut-off: the last winning rank must be distinguishable from the first rank that
    does not win (paired, p < alpha, on the benchmark score); if not, the organisers' tie-break decision is
    needed before the award. ``p_value`` (and the numbers shown) come from comparing those two entries."""
    pair = prize_boundary(order, places)
    if pair is None:
        return BoundaryVerdict(
            True,
            None,
            None,
            (
                "There is no prize cut-off: every ranked entry wins a place."
                if places > 0
                else "No prize place is awarded.",
            ),
        )
    last, first_out = pair
    numbers = _numbers(p_value, difference, ci95)
    if distinguishable(p_value, alpha):
        return BoundaryVerdict(
            True,
            last,
            first_out,
            (f"Rank {places} ({last}) is distinguishable from rank {places + 1} ({first_out}){numbers}.",),
        )
    why = (
        "the test is undefined for these results"
        if p_value is None or math.isnan(p_value)
        else f"p is not below {alpha:g}"
    )
    return BoundaryVerdict(
        False,
        last,
        first_out,
        (
            f"Rank {places} ({last}) and rank {places + 1} ({first_out}) cannot be told apart{numbers}: {why}.",
            "The organisers' tie-break decision is needed before the award can be confirmed.",
        ),
    )


def _numbers(p_value: float | None, difference: float | None, ci95: tuple[float, float] | None) -> str:
    parts = []
    if difference is not None:
        parts.append(f"difference {difference:.4f}")
    if ci95 is not None:
        parts.append(f"95% interval {ci95[0]:.4f} to {ci95[1]:.4f}")
    if p_value is not None and not math.isnan(p_value):
        parts.append(f"p = {p_value:.3g}")
    return f" ({', '.join(parts)})" if parts else ""
