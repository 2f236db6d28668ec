"""The ranking policy: order, tie-breaks, statistical ties, baselines and incomplete entries."""

from datetime import datetime, timezone

import pytest

from scoring.aggregate import BenchmarkScore, EntryScores, FinalScore
from scoring.config import RankingPolicy
from scoring.ranking import rank_entries
from scoring.rubric import JudgesScore

POLICY = RankingPolicy(tie_break=("judges_score", "earlier_submission"), break_ties_by_entry_id=True)
MAY_1 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
MAY_2 = datetime(2024, 5, 2, 9, 0, tzinfo=timezone.utc)


def entry(entry_id, final=None, se=None, judges=None, benchmark=0.5, missing=(), baseline=False, submitted=None):
    """An entry with just the scores a test cares about."""
    return EntryScores(
        entry_id=entry_id,
        benchmark=None if benchmark is None else BenchmarkScore(benchmark, se, not missing, tuple(missing)),
        judges=None if judges is None else JudgesScore(judges, None, 3),
        final=None if final is None else FinalScore(final, se),
        is_baseline=baseline,
        submitted_at=submitted,
    )


def by_id(ranking):
    return {row.entry_id: row for row in ranking}


def test_entries_are_ordered_by_final_score_highest_first():
    ranking = rank_entries([entry("b", 0.5), entry("a", 0.7), entry("c", 0.6)], POLICY)
    assert [(row.entry_id, row.rank, row.position) for row in ranking] == [("a", 1, 1), ("c", 2, 2), ("b", 3, 3)]
    assert ranking[0].reasons == ("ranked above c on final score (0.7000 vs 0.6000)",)
    assert ranking[1].reasons == (
        "ranked below a on final score (0.6000 vs 0.7000)",
        "ranked above b on final score (0.6000 vs 0.5000)",
    )


def test_equal_final_scores_are_broken_by_the_judges_score_first():
    ranking = rank_entries([entry("team-a", 0.612, judges=0.71), entry("team-b", 0.612, judges=0.75)], POLICY)
    assert [row.entry_id for row in ranking] == ["team-b", "team-a"]
    assert ranking[0].reasons == (
        "ranked above team-a on judges' score (0.7500 vs 0.7100) after equal final score (0.6120)",
    )


def test_equal_final_and_judges_scores_are_broken_by_the_earlier_submission():
    ranking = rank_entries(
        [entry("a", 0.6, judges=0.7, submitted=MAY_2), entry("b", 0.6, judges=0.7, submitted=MAY_1)], POLICY
    )
    assert [row.entry_id for row in ranking] == ["b", "a"]
    assert ranking[1].reasons == (
        "ranked below b on submission time (earlier wins) (2024-05-02T09:00:00+00:00 vs "
        "2024-05-01T09:00:00+00:00) after equal final score (0.6000) and judges' score (0.7000)",
    )


def test_a_missing_tie_break_value_loses_to_a_present_one():
    ranking = rank_entries([entry("a", 0.6, judges=None), entry("b", 0.6, judges=0.1)], POLICY)
    assert [row.entry_id for row in ranking] == ["b", "a"]


def test_the_entry_id_is_always_the_last_key_so_no_two_entries_share_a_rank():
    ranking = rank_entries([entry("zeta", 0.6, judges=0.7), entry("alpha", 0.6, judges=0.7)], POLICY)
    assert [(row.entry_id, row.rank) for row in ranking] == [("alpha", 1), ("zeta", 2)]
    assert ranking[0].reasons[0].startswith("ranked above zeta on entry id (the last, deterministic key)")


def test_without_the_entry_id_key_exactly_equal_entries_share_a_competition_rank():
    policy = RankingPolicy(tie_break=("judges_score",), break_ties_by_entry_id=False)
    ranking = rank_entries(
        [entry("a", 0.9), entry("b", 0.5, judges=0.7), entry("c", 0.5, judges=0.7), entry("d", 0.4)], policy
    )
    assert [row.rank for row in ranking] == [1, 2, 2, 4]
    assert "shares rank 2 with c: equal on final score, judges' score" in ranking[1].reasons


def test_entries_within_their_combined_standard_error_are_marked_statistically_tied():
    # |0.612 - 0.605| = 0.007 < sqrt(0.008^2 + 0.0075^2) = sqrt(0.00012025) = 0.01097
    # |0.605 - 0.500| = 0.105 > sqrt(0.0075^2 + 0.01^2) = 0.0125
    ranking = rank_entries(
        [entry("team-a", 0.612, se=0.008), entry("team-b", 0.605, se=0.0075), entry("team-c", 0.5, se=0.01)],
        POLICY,
    )
    rows = by_id(ranking)
    assert [row.rank for row in ranking] == [1, 2, 3]
    assert rows["team-a"].statistically_tied_with == ("team-b",)
    assert rows["team-b"].statistically_tied_with == ("team-a",)
    assert rows["team-c"].statistically_tied_with == ()
    assert (rows["team-a"].tie_group, rows["team-b"].tie_group, rows["team-c"].tie_group) == (1, 1, None)
    assert "within 1 standard error of team-a (0.6050 vs 0.6120, combined SE 0.0110): statistically tied" in (
        rows["team-b"].reasons
    )


def test_scores_exactly_one_combined_standard_error_apart_are_not_tied():
    # |0.65 - 0.6| = 0.05 = sqrt(0.03^2 + 0.04^2): not less than, so a real lead
    ranking = rank_entries([entry("a", 0.65, se=0.03), entry("b", 0.6, se=0.04)], POLICY)
    assert ranking[0].statistically_tied_with == ()


def test_an_unknown_standard_error_never_makes_a_statistical_tie():
    ranking = rank_entries([entry("a", 0.612, se=None), entry("b", 0.611, se=0.05)], POLICY)
    assert [row.statistically_tied_with for row in ranking] == [(), ()]


def test_a_baseline_is_listed_at_its_score_position_but_takes_no_rank():
    ranking = rank_entries([entry("team-a", 0.6), entry("llama-ref", 0.9, baseline=True), entry("team-b", 0.4)], POLICY)
    assert [(row.entry_id, row.rank, row.is_baseline) for row in ranking] == [
        ("llama-ref", None, True),
        ("team-a", 1, False),
        ("team-b", 2, False),
    ]
    assert ranking[0].reasons[0].startswith("baseline model (organiser reference)")
    assert ranking[1].reasons == ("ranked above team-b on final score (0.6000 vs 0.4000)",)


def test_a_baseline_between_entries_does_not_push_the_lower_entry_down():
    ranking = rank_entries([entry("a", 0.8), entry("ref", 0.6, baseline=True), entry("b", 0.4)], POLICY)
    assert [row.rank for row in ranking] == [1, None, 2]
    assert [row.position for row in ranking] == [1, 2, 3]


def test_an_entry_missing_a_task_ranks_after_every_complete_entry_even_with_a_higher_score():
    ranking = rank_entries([entry("partial", 0.9, se=0.2, missing=("gsm8k",)), entry("whole", 0.3, se=0.2)], POLICY)
    assert [(row.entry_id, row.rank, row.complete) for row in ranking] == [
        ("whole", 1, True),
        ("partial", 2, False),
    ]
    assert ranking[0].reasons == (
        "ranked above partial, which is missing gsm8k: incomplete entries rank after complete ones",
    )
    assert ranking[1].reasons == ("ranked below whole: missing gsm8k, and incomplete entries rank after complete ones",)


def test_incomplete_entries_are_never_statistically_tied_with_complete_ones():
    ranking = rank_entries([entry("partial", 0.61, se=0.05, missing=("x",)), entry("whole", 0.6, se=0.05)], POLICY)
    assert [row.statistically_tied_with for row in ranking] == [(), ()]


def test_the_public_board_before_judging_ranks_by_benchmark_score():
    entries = [entry("a", benchmark=0.4), entry("b", benchmark=0.7)]
    ranking = rank_entries(entries, POLICY, key="benchmark_score")
    assert [(row.entry_id, row.rank, row.score) for row in ranking] == [("b", 1, 0.7), ("a", 2, 0.4)]


def test_entries_without_a_final_score_are_listed_last_and_unranked():
    ranking = rank_entries([entry("pending", None), entry("judged", 0.5)], POLICY)
    assert [(row.entry_id, row.rank) for row in ranking] == [("judged", 1), ("pending", None)]
    assert ranking[1].reasons == ("not ranked: no final score yet",)


def test_a_single_entry_is_ranked_first_with_a_reason():
    (row,) = rank_entries([entry("solo", 0.5)], POLICY)
    assert (row.rank, row.reasons) == (1, ("the only ranked entry on final score",))


def test_an_unknown_ranking_key_is_refused():
    with pytest.raises(ValueError, match="unknown ranking key"):
        rank_entries([entry("a", 0.5)], POLICY, key="vibes")


def test_repeated_entry_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        rank_entries([entry("a", 0.5), entry("a", 0.6)], POLICY)
