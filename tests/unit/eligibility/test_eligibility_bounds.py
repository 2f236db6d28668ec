"""Figures and the planned model's size are finite and plausible, with one message whatever the source: a
number too large for a float in JSON (1e400 is infinity there) reads as too large, like 1e999 typed in a form."""

from decimal import Decimal

import pytest

from app.eligibility.application import (
    APPLICATION_JSON_SCHEMA,
    MAX_EUR,
    MAX_HEADCOUNT,
    MAX_PARAMETERS,
    ApplicationErrors,
    parse_application,
)

TOO_LARGE_EUR = f"must be between 0 and {MAX_EUR:,}"


def errors_for(document):
    with pytest.raises(ApplicationErrors) as raised:
        parse_application(document)
    return raised.value.errors


@pytest.mark.parametrize("value", [10**13 + 1, Decimal("1e999"), float("inf"), 1e300])
def test_a_turnover_above_ten_trillion_euros_is_too_large(data, value):
    assert errors_for(data(annual_turnover_eur=value)) == {"annual_turnover_eur": [TOO_LARGE_EUR]}


def test_the_ceilings_themselves_are_accepted(data):
    parse_application(
        data(
            annual_turnover_eur=MAX_EUR,
            balance_sheet_total_eur=MAX_EUR,
            staff_headcount=MAX_HEADCOUNT,
            planned_model={"parameters": MAX_PARAMETERS, "from_scratch": True},
        )
    )


def test_every_figure_has_its_ceiling_also_for_partners_and_the_previous_period(data, enterprise):
    errors = errors_for(
        data(
            staff_headcount=MAX_HEADCOUNT + 1,
            balance_sheet_total_eur=Decimal("1e20"),
            previous_period={"staff_headcount": 1, "annual_turnover_eur": float("inf"), "balance_sheet_total_eur": 1},
            partner_enterprises=[enterprise("P", 1, MAX_EUR * 10, 1, stake_percent=30, investor_type=None)],
        )
    )
    assert errors == {
        "staff_headcount": [f"must be between 0 and {MAX_HEADCOUNT:,}"],
        "balance_sheet_total_eur": [TOO_LARGE_EUR],
        "previous_period.annual_turnover_eur": [TOO_LARGE_EUR],
        "partner_enterprises[0].annual_turnover_eur": [TOO_LARGE_EUR],
    }


def test_minus_infinity_is_negative_and_nan_is_not_a_finite_number(data):
    assert errors_for(data(staff_headcount=float("-inf"))) == {"staff_headcount": ["must not be negative"]}
    assert errors_for(data(staff_headcount=float("nan"))) == {"staff_headcount": ["expected a finite number"]}


def test_a_planned_model_above_a_hundred_trillion_parameters_is_too_large(data):
    errors = errors_for(data(planned_model={"parameters": 10**100, "from_scratch": True}))
    assert errors == {"planned_model.parameters": [f"must be between 1 and {MAX_PARAMETERS:,}"]}


def test_the_json_schema_states_the_ceilings():
    properties = APPLICATION_JSON_SCHEMA["properties"]
    assert properties["annual_turnover_eur"]["maximum"] == MAX_EUR
    assert properties["staff_headcount"]["maximum"] == MAX_HEADCOUNT
    assert properties["planned_model"]["properties"]["parameters"]["maximum"] == MAX_PARAMETERS
