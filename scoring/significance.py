"""The tests behind the paired comparisons: exact McNemar, the sign-flip permutation test, the paired
bootstrap and the normal tail. Pure numpy; every random draw comes from a generator the caller seeds.

- ``mcnemar_p``: two-sided exact McNemar test on the discordant pairs of a 0/1 metric, computed with
  integers (the binomial tail is exact; only the final division rounds).
- ``sign_flip_p``: paired permutation test for any metric: under "no difference" each item's difference is
  as likely to have either sign. Exact (every sign pattern) when there are at most ``resamples`` patterns.
- ``bootstrap_means``: the two runs' means over ``resamples`` resamples of the items (with replacement).
- ``percentile_interval``: the percentile interval of bootstrap draws.
- ``normal_p``: the two-sided normal tail of z.
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.05  # below this p-value two runs count as distinguishable
RESAMPLES = 10_000
_CELL_LIMIT = 64  # at most this many distinct (a, b) pairs: resample cell counts instead of item indices
_CHUNK_CELLS = 1 << 18  # elements of one block of resampled indices or signs: 2 MB, stays in the CPU cache


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs of a 0/1 metric.

    ``a_only`` items are right in run A only, ``b_only`` in run B only; under "no difference" each of the
    m = a_only + b_only discordant items is A's with probability 1/2, so with k = min(a_only, b_only)
    ``p = min(1, 2 * sum_{i<=k} C(m, i) / 2^m)``. No discordant item: p = 1.
    """
    if a_only < 0 or b_only < 0:
        raise ValueError("discordant counts cannot be negative")
    m, k = a_only + b_only, min(a_only, b_only)
    if 2 * k >= m:  # includes m == 0: the lower tail already holds half the mass
        return 1.0
    term, tail = 1, 0
    for i in range(k + 1):  # C(m, i) by the exact recurrence C(m, i+1) = C(m, i) * (m - i) / (i + 1)
        tail += term
        term = term * (m - i) // (i + 1)
    return min(1.0, tail / 2 ** (m - 1))  # int / int rounds correctly, however large the integers


def sign_flip_p(differences: np.ndarray, rng: np.random.Generator, resamples: int = RESAMPLES) -> tuple[float, bool]:
    """Two-sided paired permutation p-value of the mean difference, and whether it is exact.

    The statistic is |sum(d)| (the same test as |mean(d)|). Items with d = 0 never change it and are left
    out; with m others, every one of the 2^m sign patterns is tried when 2^m <= resamples (exact p, the
    observed pattern included), else ``resamples`` random patterns and ``p = (1 + hits) / (1 + resamples)``,
    which is never 0. Sums within a rounding tolerance of the observed one count as at least as extreme.
    """
    d = np.asarray(differences, dtype=np.float64)
    d = d[d != 0.0]
    m = d.size
    if m == 0:
        return 1.0, True
    observed = abs(math.fsum(d))
    tolerance = 1e-9 * math.fsum(np.abs(d))
    if m < 63 and 2**m <= resamples:
        patterns = (np.arange(2**m, dtype=np.int64)[:, None] >> np.arange(m)) & 1
        sums = d.sum() - 2.0 * (patterns @ d)
        return float(np.count_nonzero(np.abs(sums) >= observed - tolerance)) / 2**m, True
    hits, done, chunk = 0, 0, max(1, _CHUNK_CELLS // m)
    while done < resamples:
        rows = min(chunk, resamples - done)
        flips = np.unpackbits(
            np.frombuffer(rng.bytes(rows * ((m + 7) // 8)), dtype=np.uint8).reshape(rows, -1), axis=1, count=m
        )
        sums = d.sum() - 2.0 * (flips @ d)
        hits += int(np.count_nonzero(np.abs(sums) >= observed - tolerance))
        done += rows
    return (1 + hits) / (1 + resamples), False


def bootstrap_means(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, resamples: int = RESAMPLES
) -> tuple[np.ndarray, np.ndarray]:
    """Both runs' means over ``resamples`` paired resamples of the n items (n draws with replacement).

    A resample keeps each item's pair (a_j, b_j) together. When the pairs take few distinct values (a 0/1
    metric has at most four), the number of draws landing on each distinct pair is drawn directly:
    it is Multinomial(n, count / n), exactly the distribution that drawing item indices gives, at a
    fraction of the cost. Otherwise item indices are drawn, in blocks to bound memory.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = a.size
    if n == 0 or b.size != n:
        raise ValueError("the bootstrap needs the same, non-zero number of values in both runs")
    cells, counts = np.unique(np.stack([a, b], axis=1), axis=0, return_counts=True)
    if len(cells) <= _CELL_LIMIT:
        draws = rng.multinomial(n, counts / n, size=resamples).astype(np.float64)
        return draws @ cells[:, 0] / n, draws @ cells[:, 1] / n
    mean_a, mean_b = np.empty(resamples), np.empty(resamples)
    done, chunk = 0, max(1, _CHUNK_CELLS // n)
    while done < resamples:
        rows = min(chunk, resamples - done)
        index = rng.integers(0, n, size=(rows, n))
        mean_a[done : done + rows] = a[index].mean(axis=1)
        mean_b[done : done + rows] = b[index].mean(axis=1)
        done += rows
    return mean_a, mean_b


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap draws (numpy's linear interpolation)."""
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(draws, dtype=np.float64), [tail, 1.0 - tail])
    return float(low), float(high)


def normal_p(z: float) -> float:
    """Two-sided tail of the standard normal: ``P(|Z| >= |z|) = erfc(|z| / sqrt(2))``."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def is_binary(*values: np.ndarray) -> bool:
    """True when every value is 0 or 1 (a right/wrong metric such as acc, acc_norm or exact_match)."""
    return all(bool(np.all((v == 0.0) | (v == 1.0))) for v in values)
