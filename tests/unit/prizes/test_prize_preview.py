"""The award preview over hand-made candidates: who is in, who is out and why, ties, and tie-break orders."""

from __future__ import annotations

from dataclasses import asdict

from app.prizes.preview import Candidate, PrizeRules, apply_tie_order, candidates_from_snapshot, compute_preview

RULES = PrizeRules(pool_cents=100_000_000, max_winners=2, policy="fixed", compute_hours={"lumi": 1001})


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


def test_the_two_best_entries_that_meet_every_condition_share_the_pool_and_the_compute():
    preview = compute_preview([_candidate(1, 1), _candidate(2, 2), _candidate(3, 3)], RULES)
    assert [(r.team, r.amount_cents, r.gpu_hours["lumi"]) for r in preview.winners] == [
        ("T1", 50_000_000, 500),
        ("T2", 50_000_000, 500),
    ]
    assert preview.payload["unawarded_hours"] == {"lumi": 1}  # fixed: the odd hour stays unawarded
    assert "ranked below the 2 prize position(s)" in preview.rows[2].why


def test_each_entry_that_is_out_says_why_in_plain_words():
    rows = compute_preview(
        [
            _candidate(1, None, is_baseline=True),
            _candidate(2, 1, eligibility="needs_review", eligibility_words="waiting for review"),
            _candidate(3, 2, licence="review"),
            _candidate(4, 3, licence=None),
            _candidate(5, 4, forfeit="overdue"),
            _candidate(6, None, unranked="evaluation pending"),
            _candidate(7, 5),
            _candidate(8, 6),
        ],
        RULES,
    ).rows
    why = {r.team: r.why for r in rows}
    assert "baselines never win" in why["T1"]
    assert why["T2"] == "not eligible for the prize (eligibility: waiting for review)"
    assert why["T3"] == "licence still under review" and why["T4"] == "licence not checked yet"
    assert why["T5"] == "prize forfeited: overdue" and why["T6"] == "not ranked: evaluation pending"
    assert [r.team for r in rows if r.status == "in"] == ["T7", "T8"]


def test_a_tie_at_the_cut_off_is_refused_and_names_the_tied_teams():
    preview = compute_preview([_candidate(1, 1), _candidate(2, 2), _candidate(3, 2)], RULES)
    assert "tied at rank 2" in preview.refused and preview.tied == (2, 3)
    assert [r.status for r in preview.rows] == ["pending", "tied", "tied"]


def test_the_organisers_order_splits_a_tied_group_and_leaves_other_ranks_alone():
    candidates = [_candidate(1, 1), _candidate(2, 2), _candidate(3, 2), _candidate(4, 2), _candidate(5, 5)]
    assert apply_tie_order(candidates, [4, 2]) == {1: 1, 4: 2, 2: 3, 3: 4, 5: 5}
    preview = compute_preview(candidates, RULES, tie_order=[3, 2, 4])
    assert [r.team for r in preview.winners] == ["T1", "T3"] and preview.payload["tie_break"] == [3, 2, 4]


def test_a_recorded_ranking_snapshot_gives_back_the_same_candidates():
    candidates = [_candidate(1, 1), _candidate(2, 2, forfeit="disqualified")]
    preview = compute_preview(candidates, RULES)
    assert candidates_from_snapshot(preview.payload["ranking"]) == candidates


def test_the_fingerprint_changes_when_any_input_changes():
    before = compute_preview([_candidate(1, 1), _candidate(2, 2)], RULES).fingerprint
    after = compute_preview([_candidate(1, 1), _candidate(2, 2, licence="fail")], RULES).fingerprint
    assert before != after and len(before) == 64


def test_a_final_score_without_its_standard_error_says_why_in_the_preview():
    judged_once = Candidate(
        1,
        "Aurora",
        False,
        1,
        0.76,
        10,
        "eligible",
        "eligible",
        "pass",
        score_se=None,
        benchmark_se=0.01,
        judges=0.7,
        judges_se=None,
    )
    row = compute_preview([judged_once], PrizeRules(100_000, 1, "fixed")).rows[0]
    assert row.score_se is None and row.no_se.short == "one judge"
    legacy = {
        k: v
        for k, v in asdict(judged_once).items()
        if k not in ("score_se", "benchmark_se", "judges", "judges_se", "se_recorded")
    }
    [old] = candidates_from_snapshot([legacy])  # an award recorded before standard errors were kept
    assert compute_preview([old], PrizeRules(100_000, 1, "fixed")).rows[0].no_se.short == "not recorded"
