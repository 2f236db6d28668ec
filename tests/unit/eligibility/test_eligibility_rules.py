"""Case tables for each eligibility rule, with the boundaries of Recommendation 2003/361/EC exactly."""

from datetime import date
from pathlib import Path
import tomllib

import pytest

from app.eligibility.application import parse_application
from app.eligibility.rules import RuleSet, decide

HERE = Path(__file__).parent
RULES_2024 = RuleSet.default_2024()


def outcome(application, rule, rules=RULES_2024, **kwargs):
    """The named check of the verdict."""
    return next(c for c in decide(application, rules, **kwargs).checks if c.rule == rule)


def frontier_rules():
    return RuleSet.from_config(tomllib.loads((HERE / "frontier-2026.toml").read_text())["eligibility"])


# --- sme: the ceilings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "turnover", "balance", "expected"),
    [
        (249, 12_000_000, 9_000_000, "pass"),
        (250, 12_000_000, 9_000_000, "fail"),
        (249.5, 12_000_000, 9_000_000, "pass"),
        (100, 50_000_000, 60_000_000, "pass"),
        (100, 50_000_001, 60_000_000, "fail"),
        (100, 60_000_000, 43_000_000, "pass"),
        (100, 60_000_000, 43_000_001, "fail"),
        (100, 50_000_000, 43_000_000, "pass"),
        (0, 0, 0, "pass"),
    ],
)
def test_sme_ceilings_are_judged_exactly_at_their_boundaries(make, staff, turnover, balance, expected):
    application = make(staff_headcount=staff, annual_turnover_eur=turnover, balance_sheet_total_eur=balance)
    assert outcome(application, "sme").outcome == expected


def test_one_financial_ceiling_is_enough_and_the_reason_says_so(make):
    check = outcome(make(annual_turnover_eur=70_000_000, balance_sheet_total_eur=40_000_000), "sme")
    assert check.outcome == "pass"
    assert "above the EUR 50,000,000 ceiling" in check.reason
    assert "meeting one of the two financial ceilings is enough" in check.reason


def test_a_large_enterprise_is_ineligible_with_its_figures_in_the_reason(make):
    verdict = decide(
        make(staff_headcount=1200, annual_turnover_eur=300_000_000, balance_sheet_total_eur=200_000_000), RULES_2024
    )
    sme = next(c for c in verdict.checks if c.rule == "sme")
    assert verdict.status == "ineligible"
    assert "1,200 annual work units, not under the 250 ceiling" in sme.reason


# --- sme: aggregation (Annex, Article 6) ------------------------------------------------------------------


def test_partner_enterprise_counts_in_proportion_to_its_stake(make, enterprise):
    partner = enterprise("Partner X", 40, 2_000_000, 1_000_000, stake_percent=50, investor_type=None)
    check = outcome(make(partner_enterprises=[partner]), "sme")
    assert "Staff: 180 + 50% of partner Partner X's 40 = 200 annual work units, under the 250 ceiling" in check.reason
    assert "EUR 12,000,000 + 50% of partner Partner X's EUR 2,000,000 = EUR 13,000,000" in check.reason


def test_partner_share_can_push_staff_over_the_ceiling(make, enterprise):
    partner = enterprise("Partner X", 140, 2_000_000, 1_000_000, stake_percent=50, investor_type=None)
    check = outcome(make(staff_headcount=180, partner_enterprises=[partner]), "sme")
    assert check.outcome == "fail"
    assert "= 250 annual work units, not under the 250 ceiling" in check.reason


def test_a_25_percent_stake_makes_a_partner(make, enterprise):
    partner = enterprise("Holding", 280, 0, 0, stake_percent=25, investor_type=None)
    check = outcome(make(staff_headcount=180, partner_enterprises=[partner]), "sme")
    assert "180 + 25% of partner Holding's 280 = 250" in check.reason
    assert check.outcome == "fail"


def test_a_stake_under_25_percent_is_autonomous_and_not_added(make, enterprise):
    partner = enterprise("Big Corp", 10_000, 5_000_000_000, 5_000_000_000, stake_percent=24.99, investor_type=None)
    check = outcome(make(partner_enterprises=[partner]), "sme")
    assert check.outcome == "pass"
    assert "Big Corp (24.99%) is not added: below 25% the enterprises are autonomous" in check.reason


def test_linked_enterprise_counts_in_full(make, enterprise):
    linked = enterprise("Parent AG", 70, 40_000_000, 35_000_000)
    check = outcome(make(linked_enterprises=[linked]), "sme")
    assert check.outcome == "fail"
    assert "180 + linked enterprise Parent AG's 70 = 250 annual work units" in check.reason


@pytest.mark.parametrize(
    "investor_type",
    [
        "public_investment_corporation",
        "venture_capital",
        "business_angel",
        "university",
        "institutional_investor",
        "local_authority",
    ],
)
def test_an_article_3_2_investor_holding_25_to_50_percent_is_not_added(make, enterprise, investor_type):
    fund = enterprise("Fund", 5_000, 900_000_000, 900_000_000, stake_percent=50, investor_type=investor_type)
    check = outcome(make(partner_enterprises=[fund]), "sme")
    assert check.outcome == "pass"
    assert "Fund (50%" in check.reason and "Article 3(2)" in check.reason


def test_the_same_venture_capital_fund_at_51_percent_is_refused_as_a_partner(data, enterprise):
    from app.eligibility.application import ApplicationErrors

    fund = enterprise("Fund", 5, 1, 1, stake_percent=51, investor_type="venture_capital")
    with pytest.raises(ApplicationErrors) as raised:
        parse_application(data(partner_enterprises=[fund]))
    assert raised.value.errors == {
        "partner_enterprises[0].stake_percent": [
            "a stake over 50% makes it a linked enterprise: list it under linked_enterprises"
        ]
    }


# --- sme: Article 4(2) two periods and Article 4(3) estimates ---------------------------------------------

PREVIOUS_SMALL = {"staff_headcount": 200, "annual_turnover_eur": 30_000_000, "balance_sheet_total_eur": 20_000_000}
PREVIOUS_LARGE = {"staff_headcount": 300, "annual_turnover_eur": 80_000_000, "balance_sheet_total_eur": 60_000_000}


@pytest.mark.parametrize(
    ("current_staff", "previous", "expected", "phrase"),
    [
        (260, PREVIOUS_SMALL, "pass", "status is lost only when a ceiling is exceeded over two consecutive"),
        (260, PREVIOUS_LARGE, "fail", "exceeded them too"),
        (260, None, "fail", "No previous period was given"),
        (180, PREVIOUS_LARGE, "review", "becomes an SME only after two consecutive periods"),
        (180, PREVIOUS_SMALL, "pass", "An SME."),
    ],
)
def test_sme_status_changes_only_over_two_consecutive_periods(make, current_staff, previous, expected, phrase):
    check = outcome(make(staff_headcount=current_staff, previous_period=previous), "sme")
    assert (check.outcome, phrase in check.reason) == (expected, True)


def test_a_new_enterprise_without_approved_accounts_is_judged_on_estimates(make):
    check = outcome(make(accounts_approved=False), "sme")
    assert check.outcome == "pass"
    assert "These figures are good-faith estimates" in check.reason and "Article 4(3)" in check.reason


# --- public_control (Article 3(4)) ------------------------------------------------------------------------


@pytest.mark.parametrize(("percent", "expected"), [(0, "pass"), (24.99, "pass"), (25, "fail"), (100, "fail")])
def test_public_control_of_25_percent_or_more_is_its_own_failing_check(make, percent, expected):
    verdict = decide(make(public_bodies_control_percent=percent), RULES_2024)
    checks = {c.rule: c.outcome for c in verdict.checks}
    assert checks["public_control"] == expected
    assert checks["sme"] == "pass"


# --- country ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "expected", "phrase"),
    [
        ("LV", "pass", "Latvia (LV) is an EU member state"),
        ("GR", "pass", "Greece (GR) is an EU member state"),
        ("NO", "pass", "Norway (NO) is associated to Horizon Europe"),
        ("XK", "pass", "Kosovo (XK) is associated"),
        ("UA", "pass", "Ukraine (UA) is associated"),
        ("NZ", "pass", "New Zealand (NZ) is associated"),
        ("GB", "fail", "its association applies from 2024-01-01"),
        ("CH", "fail", "its association applies from 2025-01-01"),
        ("CA", "fail", "Canada (CA) is neither"),
        ("US", "fail", "United States (US) is neither an EU member state nor associated"),
    ],
)
def test_country_is_judged_against_the_2024_call_date(make, country, expected, phrase):
    check = outcome(make(country=country), "country")
    assert check.outcome == expected
    assert phrase in check.reason


@pytest.mark.parametrize(
    ("call_date", "expected"),
    [
        ("2023-11-16", "fail"),
        ("2023-12-31", "fail"),
        ("2024-01-01", "pass"),
        ("2024-06-01", "pass"),
    ],
)
def test_the_united_kingdom_counts_only_from_2024_01_01(make, call_date, expected):
    rules = RuleSet.from_config({**_config_2024(), "call_date": call_date})
    assert outcome(make(country="GB"), "country", rules).outcome == expected


def test_an_association_that_ended_no_longer_counts(make):
    config = {**_config_2024(), "associated_countries": [{"code": "CH", "since": "2004-01-01", "until": "2013-12-31"}]}
    rules = RuleSet.from_config(config)
    check = outcome(make(country="CH"), "country", rules)
    assert check.outcome == "fail"
    assert "its association applies from 2004-01-01 until 2013-12-31" in check.reason


def _config_2024():
    return tomllib.loads((HERE / "lagc-2024.toml").read_text())["eligibility"]


# --- responsible_ai, experience, model_plan ---------------------------------------------------------------


@pytest.mark.parametrize(("commitment", "expected"), [(True, "pass"), (False, "fail")])
def test_responsible_ai_needs_the_signed_commitment(make, commitment, expected):
    assert outcome(make(responsible_ai_commitment=commitment), "responsible_ai").outcome == expected


@pytest.mark.parametrize(
    ("evidence", "confirmed", "expected"),
    [
        ("Trained a 13B model", False, "review"),
        ("Trained a 13B model", True, "pass"),
        ("", True, "fail"),
        ("   \n", False, "fail"),
    ],
)
def test_experience_awaits_an_organisers_confirmation(make, evidence, confirmed, expected):
    application = make(large_scale_ai_experience=evidence)
    assert outcome(application, "experience", experience_confirmed=confirmed).outcome == expected


@pytest.mark.parametrize(
    ("parameters", "from_scratch", "expected"),
    [
        (30_000_000_000, True, "pass"),
        (29_999_999_999, True, "fail"),
        (70_000_000_000, False, "fail"),
    ],
)
def test_model_plan_needs_30_billion_parameters_from_scratch(make, parameters, from_scratch, expected):
    check = outcome(make(planned_model={"parameters": parameters, "from_scratch": from_scratch}), "model_plan")
    assert check.outcome == expected


# --- the verdict ------------------------------------------------------------------------------------------


def test_a_valid_application_needs_review_until_experience_is_confirmed_then_is_eligible(make):
    assert decide(make(), RULES_2024).status == "needs_review"
    assert decide(make(), RULES_2024, experience_confirmed=True).status == "eligible"


def test_any_failing_check_makes_the_application_ineligible_even_with_a_review_pending(make):
    verdict = decide(make(responsible_ai_commitment=False), RULES_2024)
    assert verdict.status == "ineligible"
    assert [c.rule for c in verdict.checks] == list(RULES_2024.rules)


def test_the_verdict_serialises_to_the_documented_json(make):
    verdict = decide(make(), RULES_2024, experience_confirmed=True).to_dict()
    assert verdict["status"] == "eligible"
    assert set(verdict["checks"][0]) == {"rule", "outcome", "reason"}


# --- the 2026 Frontier rule set ---------------------------------------------------------------------------

FRONTIER_MODEL = {"parameters": 400_000_000_000, "from_scratch": True, "mixture_of_experts": True, "open_weights": True}


def test_the_frontier_rule_set_accepts_an_eu_controlled_400b_open_moe_plan(data):
    rules = frontier_rules()
    application = parse_application(
        data(eu_controlled=True, planned_model=FRONTIER_MODEL), require=rules.required_fields
    )
    verdict = decide(application, rules, experience_confirmed=True)
    assert verdict.status == "eligible"
    assert [c.rule for c in verdict.checks] == ["country", "eu_control", "responsible_ai", "experience", "model_plan"]


@pytest.mark.parametrize(
    ("change", "rule", "phrase"),
    [
        ({"country": "NO"}, "country", "open only to enterprises established in the EU"),
        ({"eu_controlled": False}, "eu_control", "open only to EU-controlled enterprises"),
        (
            {"planned_model": {**FRONTIER_MODEL, "parameters": 399_000_000_000}},
            "model_plan",
            "fewer than the 400 billion",
        ),
        (
            {"planned_model": {**FRONTIER_MODEL, "mixture_of_experts": False}},
            "model_plan",
            "a mixture-of-experts model",
        ),
        ({"planned_model": {**FRONTIER_MODEL, "open_weights": False}}, "model_plan", "released with open weights"),
    ],
)
def test_the_frontier_rule_set_refuses_what_the_2024_rules_allowed(data, change, rule, phrase):
    application = parse_application(data(**{"eu_controlled": True, "planned_model": FRONTIER_MODEL, **change}))
    check = outcome(application, rule, frontier_rules())
    assert check.outcome == "fail"
    assert phrase in check.reason


def test_the_frontier_rule_set_requires_its_extra_fields_when_parsing(data):
    from app.eligibility.application import ApplicationErrors

    with pytest.raises(ApplicationErrors) as raised:
        parse_application(data(), require=frontier_rules().required_fields)
    assert set(raised.value.errors) == {
        "eu_controlled",
        "planned_model.mixture_of_experts",
        "planned_model.open_weights",
    }


def test_the_2024_rules_ignore_the_frontier_fields(make):
    application = make(
        eu_controlled=False, planned_model={**FRONTIER_MODEL, "open_weights": False, "parameters": 30_000_000_000}
    )
    assert decide(application, RULES_2024, experience_confirmed=True).status == "eligible"


def test_the_default_2024_rules_match_the_2024_toml_section():
    assert RuleSet.from_config(_config_2024()) == RULES_2024
    assert RULES_2024.call_date == date(2023, 11, 16)
