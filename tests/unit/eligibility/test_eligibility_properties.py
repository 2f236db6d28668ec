"""Property tests: growing never makes an enterprise more eligible."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.eligibility.application import Application
from app.eligibility.countries import COUNTRY_NAMES, EU_MEMBER_STATES, is_eligible_country
from app.eligibility.rules import RuleSet, check_sme, decide

RULES = RuleSet.default_2024()
RANK = {"pass": 0, "review": 1, "fail": 2, "eligible": 0, "needs_review": 1, "ineligible": 2}

money = st.integers(min_value=0, max_value=200_000_000)
staff = st.integers(min_value=0, max_value=600) | st.decimals(min_value=0, max_value=600, places=2).map(float)
figures = {"staff_headcount": staff, "annual_turnover_eur": money, "balance_sheet_total_eur": money}
partner = st.fixed_dictionaries(
    {
        "name": st.just("Partner"),
        **figures,
        "stake_percent": st.integers(min_value=0, max_value=50) | st.just(24.99),
        "investor_type": st.sampled_from([None, None, "venture_capital", "university"]),
    }
)
linked = st.fixed_dictionaries({"name": st.just("Linked"), **figures})
# Top-level fields to override in the valid sample application.
overrides = st.fixed_dictionaries(
    {
        **figures,
        "accounts_approved": st.booleans(),
        "previous_period": st.none() | st.fixed_dictionaries(figures),
        "partner_enterprises": st.lists(partner, max_size=3),
        "linked_enterprises": st.lists(linked, max_size=2),
        "public_bodies_control_percent": st.sampled_from([0, 10, 24.99, 25, 60]),
    }
)


def grown(app: Application, field: str, extra: int) -> Application:
    """The same application with `extra` added to one of its own figures."""
    return replace(app, figures=replace(app.figures, **{field: getattr(app.figures, field) + Decimal(extra)}))


@settings(max_examples=200, deadline=None)
@given(overrides, st.integers(min_value=0, max_value=500))
def test_adding_staff_never_makes_an_enterprise_more_eligible(make, changes, extra):
    app = make(**changes)
    bigger = grown(app, "staff_headcount", extra)
    assert RANK[decide(bigger, RULES).status] >= RANK[decide(app, RULES).status]
    assert RANK[check_sme(bigger, RULES).outcome] >= RANK[check_sme(app, RULES).outcome]


@settings(max_examples=200, deadline=None)
@given(overrides, st.integers(min_value=0, max_value=100_000_000))
def test_a_higher_turnover_never_makes_an_enterprise_more_eligible(make, changes, extra):
    app = make(**changes)
    bigger = grown(app, "annual_turnover_eur", extra)
    assert RANK[check_sme(bigger, RULES).outcome] >= RANK[check_sme(app, RULES).outcome]
    assert RANK[decide(bigger, RULES).status] >= RANK[decide(app, RULES).status]


@settings(max_examples=100, deadline=None)
@given(overrides, st.booleans())
def test_the_status_is_the_worst_outcome_of_the_checks(make, changes, confirmed):
    verdict = decide(make(**changes), RULES, experience_confirmed=confirmed)
    assert RANK[verdict.status] == max(RANK[c.outcome] for c in verdict.checks)


@given(st.sampled_from(sorted(EU_MEMBER_STATES)), st.dates())
def test_an_eu_member_state_is_eligible_on_any_date_with_or_without_associates(code, day):
    assert is_eligible_country(code, day, allow_associated=False)


@given(st.sampled_from(sorted(set(COUNTRY_NAMES) - EU_MEMBER_STATES)), st.dates())
def test_no_other_country_is_eligible_when_associates_are_not_allowed(code, day):
    assert not is_eligible_country(code, day, allow_associated=False)
