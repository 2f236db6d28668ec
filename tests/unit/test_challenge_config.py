"""Challenge configuration files: the bundled ones load, bad ones are refused with every reason."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.challenges.config import ConfigError, parse_config
from app.settings import BUNDLED_CHALLENGES

UTC = timezone.utc


def test_the_2024_challenge_has_the_published_prize():
    config = parse_config((BUNDLED_CHALLENGES / "lagc-2024.toml").read_text())
    assert config.slug == "lagc-2024" and config.call_date.isoformat() == "2023-11-16"
    assert config.prize.pool_cents == 100_000_000 and config.prize.max_winners == 4
    assert config.prize.per_winner_cents == 25_000_000 and config.prize.gpu_hours_per_winner == 2_000_000
    assert dict(config.prize.compute_hours) == {"lumi": 4_000_000, "leonardo": 4_000_000}


def test_every_bundled_challenge_parses():
    slugs = {parse_config(p.read_text()).slug for p in BUNDLED_CHALLENGES.glob("*.toml")}
    assert {"lagc-2024", "frontier-2026"} <= slugs


def test_the_phase_at_a_moment_is_found_in_utc():
    config = parse_config((BUNDLED_CHALLENGES / "lagc-2024.toml").read_text())
    assert config.phase_at(datetime(2023, 12, 1, tzinfo=UTC)).key == "registration"
    assert config.phase_at(datetime(2024, 6, 1, tzinfo=UTC)).key == "judging"
    assert config.phase_at(datetime(2020, 1, 1, tzinfo=UTC)) is None
    assert config.next_deadline(datetime(2024, 2, 1, tzinfo=UTC)).key == "submission"


MINIMAL = """
[challenge]
slug = "x-test"
name = "X"
call_date = 2025-01-01
[[phases]]
key = "a"
name = "A"
starts = 2025-01-01T00:00:00Z
ends = 2025-02-01T00:00:00Z
[prize]
pool_eur = 100
max_winners = 2
"""


def test_a_minimal_configuration_is_enough():
    assert parse_config(MINIMAL).prize.pool_cents == 10_000


@pytest.mark.parametrize(
    "change, problem",
    [
        (('slug = "x-test"', 'slug = "X Test"'), "challenge.slug"),
        (("ends = 2025-02-01T00:00:00Z", "ends = 2024-12-01T00:00:00Z"), "ends before it starts"),
        (("starts = 2025-01-01T00:00:00Z", "starts = 2025-01-01T00:00:00"), "no UTC offset"),
        (("max_winners = 2", "max_winners = 0"), "max_winners"),
        (("pool_eur = 100", 'pool_eur = "a lot"'), "prize.pool_eur must be a int"),
        (("[prize]", '[prize]\npolicy = "lottery"'), "prize.policy"),
        (("call_date = 2025-01-01", ""), "challenge.call_date is missing"),
    ],
)
def test_a_bad_configuration_names_its_problem(change, problem):
    with pytest.raises(ConfigError) as info:
        parse_config(MINIMAL.replace(*change))
    assert any(problem in p for p in info.value.problems), info.value.problems


def test_overlapping_phases_are_refused():
    text = MINIMAL + '[[phases]]\nkey = "b"\nname = "B"\nstarts = 2025-01-15T00:00:00Z\nends = 2025-03-01T00:00:00Z\n'
    with pytest.raises(ConfigError, match="starts before phase"):
        parse_config(
            text.replace("[prize]\npool_eur = 100\nmax_winners = 2\n", "") + "[prize]\npool_eur = 1\nmax_winners = 1\n"
        )


def test_invalid_toml_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[challenge\n")


@pytest.mark.parametrize("slug_file", ["lagc-2024.toml", "frontier-2026.toml"])
def test_each_capability_section_of_the_bundled_files_is_valid(slug_file):
    from app.challenges.config import parse_section

    config = parse_config((BUNDLED_CHALLENGES / slug_file).read_text())
    for section in ("eligibility", "licence", "scoring"):
        assert parse_section(config, section) is not None, section


def test_a_broken_capability_section_is_reported_with_the_file():
    text = (
        (BUNDLED_CHALLENGES / "lagc-2024.toml")
        .read_text()
        .replace('rules = ["country", "sme"', 'rules = ["nationality", "sme"')
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert any(p.startswith("[eligibility]") for p in info.value.problems)


def test_a_configuration_nested_a_thousand_levels_deep_is_a_clear_problem_not_a_crash():
    with pytest.raises(ConfigError) as refused:
        parse_config("a = " + "[" * 1000 + "]" * 1000)
    assert refused.value.problems == ["not valid TOML: it nests arrays or tables too deeply"]


def test_a_section_no_feature_parses_is_a_problem_not_a_silent_default():
    text = (BUNDLED_CHALLENGES / "lagc-2024.toml").read_text() + '\n[eligibilty]\nrules = ["sme"]\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert any(p.startswith("[eligibilty] is not a section this platform knows") for p in info.value.problems)
