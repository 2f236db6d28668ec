"""Hand-computed prize splits, one policy at a time."""

from decimal import Decimal

import pytest

from app.prizes.split import (
    Award,
    Exclusion,
    InvalidSplitInput,
    PrizeEntry,
    SplitRefused,
    split_compute,
    split_prize,
)

EUR_1M = 100_000_000  # cents


def entry(id, rank, score=1, eligible=True, licence="pass", forfeited=False):
    return PrizeEntry(id, rank, score, eligible, licence, forfeited)


def ranked(n):
    """n candidates ranked 1..n with ids a, b, c, ..."""
    return [entry(chr(ord("a") + i), i + 1, score=n - i) for i in range(n)]


def amounts(split):
    return [a.amount for a in split.awards]


# fixed: the 2024 rule


def test_four_winners_under_fixed_each_receive_a_quarter_of_one_million_euro():
    split = split_prize(EUR_1M, 4, "fixed", ranked(4))
    assert amounts(split) == [25_000_000] * 4
    assert (split.total, split.unawarded) == (EUR_1M, 0)


def test_three_winners_under_fixed_leave_one_quarter_unawarded():
    split = split_prize(EUR_1M, 4, "fixed", ranked(3))
    assert amounts(split) == [25_000_000] * 3
    assert (split.total, split.unawarded) == (75_000_000, 25_000_000)


def test_one_winner_under_fixed_receives_one_share_and_the_rest_is_unawarded():
    split = split_prize(EUR_1M, 4, "fixed", ranked(1))
    assert amounts(split) == [25_000_000]
    assert split.unawarded == 75_000_000


def test_fixed_floors_each_share_and_leaves_the_odd_cents_unawarded():
    split = split_prize(10, 3, "fixed", ranked(3))
    assert amounts(split) == [3, 3, 3]
    assert split.unawarded == 1


def test_fixed_never_awards_more_winners_than_the_maximum():
    split = split_prize(EUR_1M, 4, "fixed", ranked(6))
    assert [a.id for a in split.awards] == ["a", "b", "c", "d"]


# equal


@pytest.mark.parametrize(
    "winners, expected",
    [(1, [100]), (2, [50, 50]), (3, [34, 33, 33]), (4, [25, 25, 25, 25])],
)
def test_equal_divides_one_hundred_cents_among_one_to_four_winners(winners, expected):
    split = split_prize(100, 4, "equal", ranked(winners))
    assert amounts(split) == expected
    assert split.unawarded == 0


def test_an_equal_remainder_cent_goes_to_the_better_rank_before_the_smaller_id():
    entries = [entry("zeta", 1), entry("alpha", 2), entry("beta", 3)]
    split = split_prize(100, 3, "equal", entries)
    assert split.awards == (Award("zeta", 1, 34), Award("alpha", 2, 33), Award("beta", 3, 33))


def test_an_equal_remainder_cent_between_tied_winners_goes_to_the_smaller_id():
    entries = [entry("b", 1), entry("a", 1)]
    split = split_prize(101, 2, "equal", entries)
    assert split.awards == (Award("a", 1, 51), Award("b", 1, 50))


# rank_weighted


def test_rank_weighted_with_three_winners_renormalises_forty_thirty_twenty():
    # 100 * 40/90 = 44.44, 100 * 30/90 = 33.33, 100 * 20/90 = 22.22: floors make 99,
    # and the one cent left goes to the largest remainder (4/9, rank 1).
    split = split_prize(100, 4, "rank_weighted", ranked(3))
    assert amounts(split) == [45, 33, 22]


@pytest.mark.parametrize(
    "winners, expected",
    # 2 winners: 57.14 and 42.86, the cent goes to the larger remainder (rank 2).
    [(1, [100]), (2, [57, 43]), (4, [40, 30, 20, 10])],
)
def test_rank_weighted_divides_one_hundred_cents_among_one_two_or_four_winners(winners, expected):
    assert amounts(split_prize(100, 4, "rank_weighted", ranked(winners))) == expected


def test_tied_winners_share_equally_the_weights_of_the_positions_they_occupy():
    # Positions 2 and 3 are tied: (30 + 20) / 2 = 25 each. Over 102 cents the exact
    # shares are 40.8, 25.5, 25.5, 10.2; two cents are left: one to rank 1 (0.8),
    # one to the tied pair's smaller id (0.5 each).
    entries = [entry("w", 1), entry("b", 2), entry("a", 2), entry("z", 4)]
    split = split_prize(102, 4, "rank_weighted", entries)
    assert split.awards == (
        Award("w", 1, 41),
        Award("a", 2, 26),
        Award("b", 2, 25),
        Award("z", 4, 10),
    )


def test_rank_weighted_uses_configured_weights():
    split = split_prize(1000, 2, "rank_weighted", ranked(2), weights=[3, 1])
    assert amounts(split) == [750, 250]


def test_rank_weighted_counts_positions_among_winners_not_raw_ranks():
    entries = [entry("a", 1), entry("b", 2, eligible=False), entry("c", 3)]
    split = split_prize(70, 4, "rank_weighted", entries)
    assert split.awards == (Award("a", 1, 40), Award("c", 3, 30))


# score_proportional


def test_score_proportional_follows_the_final_scores():
    # 100 * 3/6, 2/6, 1/6 = 50, 33.33, 16.67: the cent goes to rank 3 (remainder 2/3).
    entries = [entry("a", 1, score=3), entry("b", 2, score=2), entry("c", 3, score=1)]
    assert amounts(split_prize(100, 3, "score_proportional", entries)) == [50, 33, 17]


def test_score_proportional_reads_decimal_and_float_scores_exactly():
    entries = [entry("a", 1, score=Decimal("0.2")), entry("b", 2, score=0.1)]
    assert amounts(split_prize(300, 2, "score_proportional", entries)) == [200, 100]


def test_score_proportional_refuses_a_winner_with_a_score_of_zero():
    entries = [entry("a", 1, score=5), entry("b", 2, score=0)]
    with pytest.raises(SplitRefused) as refused:
        split_prize(100, 2, "score_proportional", entries)
    assert "b" in refused.value.reason
    assert refused.value.tied_ids == ()


# winners, ties and exclusions


def test_a_tie_at_the_cut_off_is_refused_and_names_the_tied_entries():
    entries = [entry("a", 1), entry("c", 2), entry("b", 2), entry("d", 4)]
    with pytest.raises(SplitRefused) as refused:
        split_prize(EUR_1M, 2, "equal", entries)
    assert refused.value.tied_ids == ("b", "c")
    assert "break the tie" in refused.value.reason


def test_a_tie_that_fits_inside_the_winners_is_not_refused():
    entries = [entry("a", 1), entry("c", 2), entry("b", 2), entry("d", 4)]
    split = split_prize(90, 3, "equal", entries)
    assert [a.id for a in split.awards] == ["a", "b", "c"]


def test_an_excluded_entry_does_not_count_towards_a_tie_at_the_cut_off():
    entries = [entry("a", 1), entry("b", 2), entry("c", 2, forfeited=True)]
    split = split_prize(100, 2, "equal", entries)
    assert [a.id for a in split.awards] == ["a", "b"]


def test_when_every_entry_is_excluded_nothing_is_awarded_and_each_reason_is_given():
    entries = [
        entry("a", 1, eligible=False),
        entry("b", 2, licence="review"),
        entry("c", 3, eligible=False, licence="fail", forfeited=True),
    ]
    split = split_prize(EUR_1M, 4, "equal", entries)
    assert split.awards == ()
    assert (split.total, split.unawarded) == (0, EUR_1M)
    assert split.excluded == (
        Exclusion("a", "not eligible for the prize"),
        Exclusion("b", "licence still under review"),
        Exclusion("c", "not eligible for the prize; licence check failed; prize forfeited"),
    )


def test_candidates_below_the_cut_off_are_neither_awarded_nor_excluded():
    split = split_prize(100, 1, "equal", ranked(3))
    assert split.awards == (Award("a", 1, 100),)
    assert split.excluded == ()


def test_an_empty_pool_awards_zero_cents_to_each_winner():
    assert amounts(split_prize(0, 2, "rank_weighted", ranked(2))) == [0, 0]


# GPU hours


def test_gpu_hours_are_split_per_cluster_with_the_same_rules():
    hours = {"lumi": 4_000_000, "leonardo": 4_000_000}
    split = split_compute(hours, 4, "rank_weighted", ranked(3))
    # 4e6 * 40/90, 30/90, 20/90 = 1,777,777.78 / 1,333,333.33 / 888,888.89:
    # two hours left go to the largest remainders, rank 3 (.89) then rank 1 (.78).
    for cluster in ("lumi", "leonardo"):
        assert amounts(split[cluster]) == [1_777_778, 1_333_333, 888_889]
        assert split[cluster].total == 4_000_000


def test_gpu_hours_under_fixed_leave_the_missing_winners_share_unallocated():
    split = split_compute({"lumi": 4_000_000}, 4, "fixed", ranked(3))
    assert amounts(split["lumi"]) == [1_000_000] * 3
    assert split["lumi"].unawarded == 1_000_000


# invalid input


def test_invalid_input_names_every_problem_at_once():
    entries = [entry("", 1), entry("a", 0), entry("a", 2, licence="maybe"), entry("c", 3, score=True)]
    with pytest.raises(InvalidSplitInput) as invalid:
        split_prize(-1, 0, "lottery", entries)
    text = "\n".join(invalid.value.problems)
    for fragment in ("pool_cents", "max_winners", "lottery", "no id", "rank 0", "repeats", "maybe", "score"):
        assert fragment in text
    assert len(invalid.value.problems) == 8


@pytest.mark.parametrize(
    "weights, fragment",
    [([40, 30], "2 weight(s) given for 3"), ([40, 0, 20], "above zero"), ([10, 20, 30], "not increase")],
)
def test_rank_weighted_rejects_weights_that_cannot_serve(weights, fragment):
    with pytest.raises(InvalidSplitInput, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        split_prize(100, 3, "rank_weighted", ranked(3), weights=weights)


def test_weights_are_only_checked_for_rank_weighted():
    assert amounts(split_prize(100, 3, "equal", ranked(3), weights=[])) == [34, 33, 33]


def test_negative_gpu_hours_are_invalid_and_name_the_cluster():
    with pytest.raises(InvalidSplitInput, match="hours for lumi"):
        split_compute({"lumi": -5}, 1, "equal", ranked(1))
