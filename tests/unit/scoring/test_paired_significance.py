"""The tests behind paired comparisons against slow reference formulas: exact McNemar, the sign-flip
permutation test, the paired bootstrap and the percentile interval."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.significance import (
    bootstrap_means,
    is_binary,
    mcnemar_p,
    normal_p,
    percentile_interval,
    sign_flip_p,
)


def binomial_two_sided(a_only: int, b_only: int) -> Fraction:
    """The textbook exact McNemar p-value, in exact rational arithmetic."""
    m, k = a_only + b_only, min(a_only, b_only)
    if m == 0:
        return Fraction(1)
    return min(Fraction(1), 2 * Fraction(sum(math.comb(m, i) for i in range(k + 1)), 2**m))


@given(st.integers(0, 400), st.integers(0, 400))
def test_mcnemar_equals_the_exact_binomial_formula(a_only, b_only):
    assert mcnemar_p(a_only, b_only) == float(binomial_two_sided(a_only, b_only))


def test_mcnemar_hand_computed_cases():
    assert mcnemar_p(0, 0) == 1.0  # no discordant item: no evidence at all
    assert mcnemar_p(1, 0) == 1.0  # one discordant item: p = 2 * 1/2
    assert mcnemar_p(5, 0) == 2 / 32
    assert mcnemar_p(0, 5) == 2 / 32  # symmetric
    assert mcnemar_p(8, 2) == 2 * (1 + 10 + 45) / 1024
    assert mcnemar_p(3, 3) == 1.0


def test_mcnemar_stays_exact_for_thousands_of_discordant_items():
    assert mcnemar_p(2600, 2400) == float(binomial_two_sided(2600, 2400))
    assert 0.0 < mcnemar_p(3000, 1000) < 1e-200  # tiny, yet not rounded to zero


def test_mcnemar_matches_scipys_binomial_test():
    stats = pytest.importorskip("scipy.stats")
    for a_only, b_only in [(7, 2), (30, 45), (120, 90), (1, 11)]:
        expected = stats.binomtest(a_only, a_only + b_only, 0.5).pvalue
        assert mcnemar_p(a_only, b_only) == pytest.approx(expected, rel=1e-9)


def exact_sign_flip(d) -> float:
    """Every sign pattern, by brute force."""
    observed = abs(math.fsum(d))
    patterns = list(itertools.product((1, -1), repeat=len(d)))
    hits = sum(abs(math.fsum(s * x for s, x in zip(signs, d))) >= observed - 1e-9 for signs in patterns)
    return hits / len(patterns)


small_differences = st.lists(st.sampled_from([-1.0, -0.5, -0.25, 0.0, 0.3, 0.5, 0.75, 1.0]), min_size=1, max_size=10)


@given(small_differences)
@settings(max_examples=60, deadline=None)
def test_the_sign_flip_test_enumerates_every_pattern_when_there_are_few(d):
    nonzero = [x for x in d if x != 0.0]
    p, exact = sign_flip_p(np.array(d), np.random.default_rng(0), resamples=10_000)
    assert exact
    assert p == pytest.approx(exact_sign_flip(nonzero) if nonzero else 1.0, abs=1e-12)


def test_the_random_sign_flip_p_value_is_close_to_the_exact_one():
    rng = np.random.default_rng(3)
    d = np.round(rng.normal(0.15, 1.0, 20), 3)  # 2^20 patterns: too many to enumerate with 10,000 resamples
    exact = exact_sign_flip(list(d))
    p, was_exact = sign_flip_p(d, np.random.default_rng(4), resamples=10_000)
    assert not was_exact
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / 10_000) + 1e-4


def test_a_random_sign_flip_p_value_is_never_zero():
    p, exact = sign_flip_p(np.full(40, 0.5), np.random.default_rng(0), resamples=1_000)
    assert not exact and p == 1 / 1001


def test_the_bootstrap_of_a_binary_metric_has_the_distribution_of_resampling_items():
    rng = np.random.default_rng(5)
    a = (rng.random(300) < 0.6).astype(float)
    b = np.where(rng.random(300) < 0.8, a, 1 - a)
    cells_a, cells_b = bootstrap_means(a, b, np.random.default_rng(6), 20_000)  # cell counts (few values)
    index = np.random.default_rng(7).integers(0, 300, size=(20_000, 300))
    items_a, items_b = a[index].mean(axis=1), b[index].mean(axis=1)  # the textbook way: draw item indices
    for ours, reference in ((cells_a, items_a), (cells_b, items_b), (cells_a - cells_b, items_a - items_b)):
        assert ours.mean() == pytest.approx(reference.mean(), abs=0.002)
        assert ours.std() == pytest.approx(reference.std(), rel=0.03)
        assert np.quantile(ours, 0.025) == pytest.approx(np.quantile(reference, 0.025), abs=0.006)


def test_the_bootstrap_of_a_continuous_metric_resamples_items_and_keeps_pairs_together():
    rng = np.random.default_rng(8)
    a = rng.random(500)
    means_a, means_b = bootstrap_means(a, a + 0.1, np.random.default_rng(9), 2_000)
    assert np.allclose(means_b - means_a, 0.1)  # each item's pair travels together
    assert means_a.std() == pytest.approx(a.std() / math.sqrt(500), rel=0.08)


def test_the_bootstrap_is_reproducible_from_its_generator():
    a, b = np.arange(100) % 3 / 2, np.arange(100) % 5 / 4
    first = bootstrap_means(a, b, np.random.default_rng(11), 1_000)
    again = bootstrap_means(a, b, np.random.default_rng(11), 1_000)
    assert all(np.array_equal(x, y) for x, y in zip(first, again))


def test_the_percentile_interval_uses_linear_interpolation():
    assert percentile_interval(np.arange(101, dtype=float)) == pytest.approx((2.5, 97.5), abs=1e-12)
    assert percentile_interval(np.array([1.0, 1.0, 1.0])) == (1.0, 1.0)


def test_the_normal_tail_is_two_sided():
    assert normal_p(0.0) == 1.0
    assert normal_p(1.959963984540054) == pytest.approx(0.05, rel=1e-12)
    assert normal_p(-1.959963984540054) == normal_p(1.959963984540054)


def test_a_metric_is_binary_only_when_every_value_is_zero_or_one():
    assert is_binary(np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    assert not is_binary(np.array([0.0, 1.0]), np.array([0.5, 1.0]))
