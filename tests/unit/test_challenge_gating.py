"""The phase gate: which entrant actions a phase allows, exactly at its boundaries, by default and by `allows`,
with the reason an entrant reads; unknown actions are configuration problems."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.challenges.config import ConfigError, PhaseSpec, parse_config
from app.challenges.gating import gate, next_boundary, phase_boundaries, until, utc_words, windows
from app.settings import BUNDLED_CHALLENGES

UTC = timezone.utc
SECOND = timedelta(seconds=1)
LAGC = parse_config((BUNDLED_CHALLENGES / "lagc-2024.toml").read_text())
REG_STARTS, REG_ENDS = datetime(2023, 11, 16, tzinfo=UTC), datetime(2024, 1, 16, 16, tzinfo=UTC)
SUB_STARTS, SUB_ENDS = REG_ENDS, datetime(2024, 4, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment, register, apply, submit",
    [
        (REG_STARTS - SECOND, False, False, False),
        (REG_STARTS, True, True, False),  # open at `starts`
        (REG_ENDS - SECOND, True, True, False),
        (REG_ENDS, False, False, True),  # closed at `ends`; submission opens at the same instant
        (SUB_ENDS - SECOND, False, False, True),
        (SUB_ENDS, False, False, False),  # closed at `ends`
        (datetime(2026, 11, 29, tzinfo=UTC), False, False, False),
    ],
)
def test_each_action_is_open_from_starts_included_to_ends_excluded(moment, register, apply, submit):
    assert (
        LAGC.gate("register", moment).allowed,
        LAGC.gate("apply", moment).allowed,
        LAGC.gate("submit", moment).allowed,
    ) == (register, apply, submit)


def test_the_boundaries_match_phase_at():
    for phase in LAGC.phases:
        for moment in (phase.starts - SECOND, phase.starts, phase.ends - SECOND, phase.ends):
            running = LAGC.phase_at(moment)
            assert ("submit" in running.actions if running else False) == LAGC.gate("submit", moment).allowed


def test_well_known_keys_get_default_actions_and_other_keys_none():
    actions = {p.key: set(p.actions) for p in LAGC.phases}
    assert actions == {
        "registration": {"register", "apply"},
        "submission": {"submit"},
        "evaluation": set(),
        "judging": set(),
        "award": set(),
    }


def _config(*phases: str) -> str:
    return (
        '[challenge]\nslug = "x-test"\nname = "X"\ncall_date = 2025-01-01\n'
        + "".join(phases)
        + "[prize]\npool_eur = 100\nmax_winners = 1\n"
    )


def _phase(key: str, starts: str, ends: str, allows: str | None = None) -> str:
    line = f"allows = {allows}\n" if allows is not None else ""
    return f'[[phases]]\nkey = "{key}"\nname = "{key.title()}"\nstarts = {starts}\nends = {ends}\n{line}'


def test_an_explicit_allows_replaces_the_defaults_of_the_key():
    config = parse_config(
        _config(
            _phase("registration", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", '["register"]'),
            _phase("late", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z", '["apply", "submit"]'),
            _phase("submission", "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z", "[]"),
        )
    )
    assert [set(p.actions) for p in config.phases] == [{"register"}, {"apply", "submit"}, set()]
    feb = datetime(2025, 2, 15, tzinfo=UTC)
    assert not config.gate("register", feb).allowed and config.gate("apply", feb).allowed
    assert not config.gate("submit", datetime(2025, 3, 15, tzinfo=UTC)).allowed


@pytest.mark.parametrize(
    "allows, problem",
    [
        ('["register", "vote"]', "phases[0].allows: 'vote' is not an action; the actions are register, apply, submit"),
        ('"register"', "phases[0].allows must be a list of actions"),
        ("[1, 2]", "phases[0].allows must be a list of actions"),
    ],
)
def test_an_unknown_action_is_a_problem_the_parser_reports(allows, problem):
    with pytest.raises(ConfigError) as info:
        parse_config(_config(_phase("registration", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", allows)))
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_the_reasons_give_the_dates_in_utc():
    assert (
        LAGC.gate("submit", datetime(2024, 6, 1, tzinfo=UTC)).reason
        == "Checkpoint submissions closed on 30 Apr 2024 15:00 UTC."
    )
    assert (
        LAGC.gate("submit", datetime(2023, 12, 1, tzinfo=UTC)).reason
        == "Checkpoint submissions open on 16 Jan 2024 16:00 UTC."
    )
    assert (
        LAGC.gate("submit", datetime(2024, 2, 1, tzinfo=UTC)).reason
        == "Checkpoint submissions close on 30 Apr 2024 15:00 UTC."
    )
    assert (
        LAGC.gate("register", datetime(2023, 1, 1, tzinfo=UTC)).reason
        == "Team registration opens on 16 Nov 2023 00:00 UTC."
    )
    assert (
        LAGC.gate("apply", datetime(2025, 1, 1, tzinfo=UTC)).reason
        == "Eligibility applications closed on 16 Jan 2024 16:00 UTC."
    )


def test_the_summary_says_how_far_away_the_next_date_is():
    moment = SUB_ENDS - timedelta(days=3, hours=2)
    assert LAGC.gate("submit", moment).summary == "Checkpoint submissions close on 30 Apr 2024 15:00 UTC (in 3 days)."
    assert (
        LAGC.gate("submit", REG_ENDS - timedelta(hours=5)).summary
        == "Checkpoint submissions open on 16 Jan 2024 16:00 UTC (in 5 hours)."
    )
    assert LAGC.gate("submit", SUB_ENDS).summary == "Checkpoint submissions closed on 30 Apr 2024 15:00 UTC."


def test_the_gate_names_the_running_phase_and_the_window():
    moment = datetime(2024, 5, 10, tzinfo=UTC)
    closed = LAGC.gate("submit", moment)
    assert closed.phase.key == "evaluation" and closed.closed == SUB_ENDS and closed.opens is None
    assert LAGC.gate("submit", datetime(2024, 2, 1, tzinfo=UTC)).closes == SUB_ENDS
    assert LAGC.gate("submit", datetime(2030, 1, 1, tzinfo=UTC)).phase is None


def test_adjacent_phases_allowing_an_action_make_one_window_and_a_gap_reopens_it():
    a = PhaseSpec("a", "A", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC), ("apply",))
    b = PhaseSpec("b", "B", datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC), ("apply",))
    c = PhaseSpec("c", "C", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), ())
    d = PhaseSpec("d", "D", datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC), ("apply",))
    assert windows([a, b, c, d], "apply") == [(a.starts, b.ends), (d.starts, d.ends)]
    assert gate([a, b, c, d], "apply", datetime(2025, 1, 20, tzinfo=UTC)).closes == b.ends
    between = gate([a, b, c, d], "apply", datetime(2025, 3, 15, tzinfo=UTC))
    assert between.reason == (
        "Eligibility applications closed on 1 Mar 2025 00:00 UTC; they open again on 1 Apr 2025 00:00 UTC."
    )


def test_an_action_no_phase_allows_says_so():
    only = PhaseSpec("judging", "Judging", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    assert (
        gate([only], "register", datetime(2025, 1, 5, tzinfo=UTC)).reason
        == "No phase of this challenge allows team registration."
    )


def test_an_unknown_action_asked_of_the_gate_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action 'vote'"):
        LAGC.gate("vote", REG_STARTS)


@pytest.mark.parametrize(
    "delta, words",
    [
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=3, hours=23), "in 3 days"),
        (timedelta(hours=2), "in 2 hours"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(seconds=59), "in less than a minute"),
    ],
)
def test_until_rounds_down_to_the_largest_unit(delta, words):
    assert until(REG_STARTS, REG_STARTS + delta) == words


def test_utc_words_writes_the_day_without_a_leading_zero():
    assert utc_words(datetime(2024, 5, 1, 9, 5, tzinfo=UTC)) == "1 May 2024 09:05 UTC"


def test_phase_boundaries_are_listed_in_time_order_closing_before_the_next_opens():
    phases = [
        ("registration", REG_STARTS, REG_STARTS + timedelta(days=10)),
        ("submission", REG_STARTS + timedelta(days=10), REG_STARTS + timedelta(days=20)),
    ]
    assert phase_boundaries(phases, REG_STARTS - timedelta(seconds=1)) == []
    assert phase_boundaries(phases, REG_STARTS + timedelta(days=10)) == [
        ("registration", "phase.opened"),
        ("registration", "phase.closed"),
        ("submission", "phase.opened"),
    ]
    assert next_boundary(phases, REG_STARTS + timedelta(days=10)) == REG_STARTS + timedelta(days=20)
    assert next_boundary(phases, REG_STARTS + timedelta(days=30)) is None
