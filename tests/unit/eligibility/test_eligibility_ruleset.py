"""Rule sets are data: built from a challenge's `[eligibility]` section, refusing bad settings by name."""

import tomllib
from datetime import date
from pathlib import Path

import pytest

from app.eligibility.countries import Association, country_label, is_eligible_country
from app.eligibility.rules import DEFAULT_2024_CONFIG, RuleSet

HERE = Path(__file__).parent


def test_the_frontier_toml_section_builds_a_rule_set_with_eu_control_and_no_associates():
    rules = RuleSet.from_config(tomllib.loads((HERE / "frontier-2026.toml").read_text())["eligibility"])
    assert "eu_control" in rules.rules and not rules.allow_associated_countries
    assert (rules.min_parameters, rules.require_mixture_of_experts, rules.require_open_weights) == (
        400_000_000_000,
        True,
        True,
    )
    assert rules.required_fields == ("eu_controlled", "planned_model.mixture_of_experts", "planned_model.open_weights")


def test_the_2024_rule_set_needs_no_optional_application_fields():
    assert RuleSet.default_2024().required_fields == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "blue"}, "eligibility.colour: unknown setting"),
        ({"min_parameters": None}, "eligibility.min_parameters: expected a positive whole number"),
        ({"min_parameters": True}, "eligibility.min_parameters: expected a positive whole number"),
        ({"min_parameters": 0}, "eligibility.min_parameters: expected a positive whole number"),
        ({"require_open_weights": "yes"}, "eligibility.require_open_weights: expected true or false"),
        ({"call_date": "16 Nov 2023"}, "eligibility.call_date: expected a date written YYYY-MM-DD"),
        ({"rules": []}, "eligibility.rules: expected a non-empty list of rule ids"),
        ({"rules": ["sme", "sme"]}, "eligibility.rules: a rule is listed twice"),
        ({"rules": ["smes"]}, "eligibility.rules: unknown rule 'smes'"),
        (
            {"associated_countries": [{"code": "QQ", "since": "2021-01-01"}]},
            "eligibility.associated_countries[0].code: unknown country code 'QQ'",
        ),
        (
            {"associated_countries": [{"code": "NO", "since": "soon"}]},
            "eligibility.associated_countries[0].since: expected a date written YYYY-MM-DD",
        ),
    ],
)
def test_a_bad_setting_is_refused_naming_its_key(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        RuleSet.from_config({**DEFAULT_2024_CONFIG, **change})


@pytest.mark.parametrize("key", ["call_date", "rules", "min_parameters", "allow_associated_countries"])
def test_a_missing_setting_is_refused_not_defaulted(key):
    config = {k: v for k, v in DEFAULT_2024_CONFIG.items() if k != key}
    with pytest.raises(ValueError, match=f"eligibility.{key}: required setting is missing"):
        RuleSet.from_config(config)


def test_the_call_date_may_be_a_toml_date_or_a_string():
    assert RuleSet.from_config({**DEFAULT_2024_CONFIG, "call_date": date(2023, 11, 16)}) == RuleSet.default_2024()


def test_a_configured_association_list_replaces_the_built_in_one():
    japan = [{"code": "JP", "since": "2023-01-01"}]
    rules = RuleSet.from_config({**DEFAULT_2024_CONFIG, "associated_countries": japan})
    assert rules.associations == (Association("JP", date(2023, 1, 1)),)


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("GB", date(2023, 12, 31), False),
        ("GB", date(2024, 1, 1), True),
        ("CH", date(2024, 12, 31), False),
        ("CH", date(2025, 1, 1), True),
        ("KR", date(2024, 12, 31), False),
        ("KR", date(2025, 1, 1), True),
        ("TR", date(2021, 1, 1), True),
        ("IL", date(2023, 11, 16), True),
        ("RU", date(2023, 11, 16), False),
    ],
)
def test_associated_countries_count_from_their_association_date(code, day, expected):
    assert is_eligible_country(code, day) is expected


def test_an_associated_country_does_not_count_where_associates_are_not_allowed():
    assert not is_eligible_country("NO", date(2024, 1, 1), allow_associated=False)


def test_country_labels_read_as_name_and_code():
    assert (country_label("LV"), country_label("XK"), country_label("GB")) == (
        "Latvia (LV)",
        "Kosovo (XK)",
        "United Kingdom (GB)",
    )
