"""The prize cut-off tested item by item, over hand-made candidates and test results: which two entries are
compared, and the rule both ways (distinguishable: the award stands; not: held until the organisers' tie-break
decision, which then decides; no per-item results: said, not held)."""

from __future__ import annotations

from app.prizes.preview import Candidate, CutOffTest, PrizeRules, compute_preview, cut_off_pair, settle_cut_off

RULES = PrizeRules(pool_cents=100_000_000, max_winners=2, policy="fixed")


def _candidate(team_id: int, rank: int | None, **facts) -> Candidate:
    values = dict(
        team_id=team_id,
        team=f"T{team_id}",
        is_baseline=False,
        rank=rank,
        score=1.0 - 0.1 * team_id,
        submission_id=100 + team_id,
        eligibility="eligible",
        eligibility_words="eligible",
        licence="pass",
    )
    return Candidate(**{**values, **facts})


FIELD = [_candidate(1, 1), _candidate(2, 2), _candidate(3, 3, licence="fail"), _candidate(4, 4), _candidate(5, 5)]


def test_the_last_winner_is_compared_with_the_best_entry_below_it_that_could_take_its_place():
    assert cut_off_pair(compute_preview(FIELD, RULES), FIELD) == (2, 4)  # T3 is excluded: it could not win


def test_there_is_no_cut_off_when_nobody_below_the_winners_could_win():
    field = FIELD[:3]
    assert cut_off_pair(compute_preview(field, RULES), field) is None


def test_a_distinguishable_cut_off_stands_and_says_so_with_the_numbers():
    preview = compute_preview(FIELD, RULES)
    settled = settle_cut_off(preview, FIELD, RULES, (), CutOffTest(2, 4, 0.01, 0.05, (0.02, 0.08)))
    assert settled.refused is None and [r.team for r in settled.winners] == ["T1", "T2"]
    assert settled.cut_off == (
        "The cut-off stands: rank 2 (T2) and rank 4 (T4) are distinguishable (difference "
        "0.0500, 95% interval 0.0200 to 0.0800, p = 0.01)."
    )
    assert settled.payload["cut_off"] == settled.cut_off and settled.fingerprint != preview.fingerprint


def test_a_cut_off_that_cannot_be_told_apart_holds_the_award_naming_both_entries():
    settled = settle_cut_off(
        compute_preview(FIELD, RULES), FIELD, RULES, (), CutOffTest(2, 4, 0.4, 0.01, (-0.02, 0.04))
    )
    assert settled.refused.startswith("Rank 2 (T2) and rank 4 (T4) cannot be told apart (difference 0.0100")
    assert "until the organisers record their tie-break decision" in settled.refused
    assert settled.tied == (2, 4) and not settled.winners
    assert {r.team: r.status for r in settled.rows} == {
        "T1": "pending",
        "T2": "tied",
        "T3": "out",
        "T4": "tied",
        "T5": "out",
    }


def test_an_undefined_p_value_is_not_distinguishable():
    settled = settle_cut_off(compute_preview(FIELD, RULES), FIELD, RULES, (), CutOffTest(2, 4, None, 0.0, None))
    assert settled.refused and "p undefined" in settled.refused


def test_the_organisers_decision_settles_the_cut_off_either_way():
    test = CutOffTest(2, 4, 0.4, 0.01, (-0.02, 0.04))
    kept = settle_cut_off(compute_preview(FIELD, RULES, (2, 4)), FIELD, RULES, (2, 4), test)
    assert kept.refused is None and [r.team for r in kept.winners] == ["T1", "T2"]
    given = settle_cut_off(compute_preview(FIELD, RULES, (4, 2)), FIELD, RULES, (4, 2), test)
    assert given.refused is None and [r.team for r in given.winners] == ["T1", "T4"]
    assert "tie-break decision orders them" in given.cut_off


def test_without_per_item_results_the_preview_says_the_cut_off_was_not_tested_and_goes_ahead():
    settled = settle_cut_off(
        compute_preview(FIELD, RULES),
        FIELD,
        RULES,
        (),
        CutOffTest(2, 4, unavailable="T4 cannot be compared item by item: no samples"),
    )
    assert settled.refused is None and [r.team for r in settled.winners] == ["T1", "T2"]
    assert "could not be tested item by item: T4 cannot be compared" in settled.cut_off
