"""The rules of leasing to sites: which online site takes which queued evaluation, under the clusters'
concurrency, the teams' allocations, the sites' capacity and each evaluation's placement."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from evaluation.policy import Candidate
from evaluation.sites.rules import (
    Assignment,
    Placement,
    SiteCandidate,
    SiteSlot,
    online,
    plan_site_dispatch,
    releasable,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def candidate(
    ev: int, team: int = 1, clusters=("lumi-g",), limit: int = 10, allocation=None, need=1.0, placement=Placement()
) -> SiteCandidate:
    return SiteCandidate(ev, team, tuple(Candidate(ev, team, c, limit, allocation, need) for c in clusters), placement)


def test_the_least_loaded_online_site_of_the_evaluations_cluster_takes_it():
    slots = [SiteSlot(1, "lumi-a", "lumi-g", 1), SiteSlot(2, "lumi-b", "lumi-g", 3), SiteSlot(3, "leo", "leonardo", 9)]
    granted, exhausted = plan_site_dispatch([candidate(10), candidate(11)], slots, {}, {}, {})
    assert granted == [Assignment(10, 2, "lumi-g"), Assignment(11, 2, "lumi-g")] and exhausted == []


def test_a_site_takes_no_more_than_its_free_slots_and_the_cluster_no_more_than_its_concurrency():
    slots = [SiteSlot(1, "a", "lumi-g", 1), SiteSlot(2, "b", "lumi-g", 1)]
    granted, _ = plan_site_dispatch([candidate(i, limit=3) for i in range(5)], slots, {"lumi-g": 1}, {}, {})
    assert [g.evaluation_id for g in granted] == [0, 1]  # two free slots, and 1 + 2 = the limit of 3
    granted, _ = plan_site_dispatch([candidate(i, limit=2) for i in range(5)], slots, {"lumi-g": 1}, {}, {})
    assert [g.evaluation_id for g in granted] == [0]


def test_the_challenges_first_cluster_with_a_free_site_is_chosen_in_its_order():
    slots = [SiteSlot(1, "leo", "leonardo", 1), SiteSlot(2, "lumi", "lumi-g", 1)]
    granted, _ = plan_site_dispatch(
        [
            candidate(1, clusters=("lumi-g", "leonardo")),
            candidate(2, clusters=("lumi-g", "leonardo")),
            candidate(3, clusters=("lumi-g", "leonardo")),
        ],
        slots,
        {},
        {},
        {},
    )
    assert granted == [Assignment(1, 2, "lumi-g"), Assignment(2, 1, "leonardo")]


def test_an_allocation_that_can_never_cover_the_job_on_any_cluster_fails_it_and_one_that_will_waits():
    slots = [SiteSlot(1, "lumi", "lumi-g", 5)]
    used = {(1, "lumi-g"): 95.0}
    granted, exhausted = plan_site_dispatch([candidate(1, allocation=100.0, need=10.0)], slots, {}, used, {})
    assert (granted, exhausted) == ([], [1])
    granted, exhausted = plan_site_dispatch(
        [candidate(2, allocation=100.0, need=10.0)], slots, {}, {(1, "lumi-g"): 50.0}, {(1, "lumi-g"): 45.0}
    )
    assert (granted, exhausted) == ([], [])  # fits once the team's job in flight is charged


def test_a_placement_keeps_an_evaluation_away_from_or_at_named_sites():
    slots = [SiteSlot(1, "lumi", "lumi-g", 5), SiteSlot(2, "lumi-2", "lumi-g", 5)]
    away = Placement(exclude=frozenset({"lumi-2"}))
    only = Placement.from_request({"placement": {"only": ["lumi-2"]}})
    granted, _ = plan_site_dispatch([candidate(1, placement=away), candidate(2, placement=only)], slots, {}, {}, {})
    assert granted == [Assignment(1, 1, "lumi-g"), Assignment(2, 2, "lumi-g")]
    nowhere = Placement(only=frozenset({"mn5"}))
    assert plan_site_dispatch([candidate(3, placement=nowhere)], slots, {}, {}, {}) == ([], [])
    assert Placement.from_request({}) == Placement() and Placement.from_request({"placement": only.to_dict()}) == only


def test_a_site_is_online_while_its_heartbeats_arrive_within_the_lease_time():
    assert online(NOW - timedelta(seconds=59), None, NOW, 60)
    assert not online(NOW - timedelta(seconds=61), None, NOW, 60)
    assert not online(None, None, NOW, 60) and not online(NOW, NOW, NOW, 60)


def test_only_an_expired_lease_whose_job_was_never_submitted_goes_back_to_the_queue():
    past = NOW - timedelta(seconds=1)
    assert releasable("dispatching", None, past, NOW)
    assert not releasable("dispatching", "/scratch/jobs/1/attempt-1", past, NOW)  # bound: it may exist
    assert not releasable("dispatching", None, NOW + timedelta(seconds=1), NOW)
    assert not releasable("running", None, past, NOW)


@given(
    st.lists(st.tuples(st.integers(1, 3), st.sampled_from(["a", "b"])), max_size=30),
    st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 4)), max_size=5),
    st.integers(1, 6),
)
def test_no_site_gets_more_than_its_free_slots_and_no_evaluation_is_granted_twice(queue, sites, limit):
    slots = [SiteSlot(i, f"s{i}", cluster, free) for i, (cluster, free) in enumerate(sites)]
    candidates = [candidate(i, team, clusters=(cluster,), limit=limit) for i, (team, cluster) in enumerate(queue)]
    granted, _ = plan_site_dispatch(candidates, slots, {}, {}, {})
    assert len({g.evaluation_id for g in granted}) == len(granted)
    for slot in slots:
        assert sum(g.site_id == slot.site_id for g in granted) <= slot.free
    for cluster in ("a", "b"):
        assert sum(g.cluster == cluster for g in granted) <= limit
