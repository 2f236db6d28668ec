"""Properties every prize split keeps, whatever the entries."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.prizes.split import POLICIES, PrizeEntry, SplitRefused, split_compute, split_prize


@st.composite
def ranked_entries(draw):
    """Entries with unique ids, ranks from 1 with ties and gaps, mixed eligibility."""
    size = draw(st.integers(0, 8))
    steps = draw(st.lists(st.integers(0, 2), min_size=size, max_size=size))
    entries, rank = [], 1
    for n, step in enumerate(steps):
        rank += step if n else 0
        entries.append(
            PrizeEntry(
                id=f"e{draw(st.integers(0, 99)):02d}-{n}",
                rank=rank,
                score=draw(st.integers(1, 1000)),
                eligible=draw(st.booleans()),
                licence=draw(st.sampled_from(["pass", "pass", "pass", "review", "fail"])),
                forfeited=draw(st.booleans()) and draw(st.booleans()),
            )
        )
    return entries


@st.composite
def non_increasing_weights(draw, length):
    values = draw(st.lists(st.integers(1, 100), min_size=length, max_size=length + 2))
    return sorted(values, reverse=True)


@st.composite
def split_inputs(draw):
    max_winners = draw(st.integers(1, 5))
    return {
        "pool_cents": draw(st.integers(0, 10**9)),
        "max_winners": max_winners,
        "policy": draw(st.sampled_from(POLICIES)),
        "entries": draw(ranked_entries()),
        "weights": draw(non_increasing_weights(max_winners)),
    }


def split_or_check_refusal(args):
    """The split, or None after checking that a refusal names a real tie at the cut-off."""
    try:
        return split_prize(**args)
    except SplitRefused as refused:
        assert len(refused.tied_ids) >= 2
        candidates = {e.id: e for e in args["entries"] if e.eligible and e.licence == "pass" and not e.forfeited}
        better = [e for e in candidates.values() if e.rank < candidates[refused.tied_ids[0]].rank]
        assert len(better) < args["max_winners"] < len(better) + len(refused.tied_ids)
        return None


@settings(max_examples=300, deadline=None)
@given(split_inputs())
def test_amounts_are_never_negative_and_never_exceed_the_maximum_number_of_winners(args):
    split = split_or_check_refusal(args)
    if split is None:
        return
    assert all(a.amount >= 0 for a in split.awards)
    assert len(split.awards) <= args["max_winners"]
    assert split.total + split.unawarded == args["pool_cents"]


@settings(max_examples=300, deadline=None)
@given(split_inputs())
def test_amounts_add_up_to_the_pool_whenever_someone_wins_except_under_fixed(args):
    split = split_or_check_refusal(args)
    if split is None or not split.awards:
        return
    if args["policy"] == "fixed":
        share = args["pool_cents"] // args["max_winners"]
        assert all(a.amount == share for a in split.awards)
    else:
        assert sum(a.amount for a in split.awards) == args["pool_cents"]
        assert split.unawarded == 0


@settings(max_examples=300, deadline=None)
@given(split_inputs())
def test_a_better_rank_never_receives_less_under_rank_weighted(args):
    split = split_or_check_refusal({**args, "policy": "rank_weighted"})
    if split is None:
        return
    for better, worse in zip(split.awards, split.awards[1:]):
        if better.rank < worse.rank:
            assert better.amount >= worse.amount


@settings(max_examples=300, deadline=None)
@given(split_inputs())
def test_every_entry_is_awarded_excluded_or_below_the_cut_off_exactly_once(args):
    split = split_or_check_refusal(args)
    if split is None:
        return
    awarded = [a.id for a in split.awards]
    excluded = [x.id for x in split.excluded]
    assert len(set(awarded) | set(excluded)) == len(awarded) + len(excluded)
    assert set(awarded) | set(excluded) <= {e.id for e in args["entries"]}
    assert all(x.reason for x in split.excluded)


@settings(max_examples=100, deadline=None)
@given(split_inputs(), st.integers(0, 10**7))
def test_gpu_hours_are_divided_exactly_like_cents(args, hours):
    try:
        by_cluster = split_compute({"lumi": hours}, **{k: v for k, v in args.items() if k != "pool_cents"})
    except SplitRefused:
        return
    assert by_cluster["lumi"] == split_prize(**{**args, "pool_cents": hours})
