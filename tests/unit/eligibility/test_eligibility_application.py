"""The application parser: every bad input reported by field path, all at once, and a faithful round trip."""

import json
import math

import pytest

from app.eligibility.application import (
    APPLICATION_JSON_SCHEMA,
    ApplicationErrors,
    application_to_dict,
    parse_application,
)


def errors_for(document):
    with pytest.raises(ApplicationErrors) as raised:
        parse_application(document)
    return raised.value.errors


def test_a_valid_application_round_trips_through_application_to_dict(data, enterprise):
    document = data(
        previous_period={"staff_headcount": 170.5, "annual_turnover_eur": 11_000_000, "balance_sheet_total_eur": 8e6},
        partner_enterprises=[enterprise("P", 10, 1, 2, stake_percent=33.33, investor_type=None)],
        linked_enterprises=[enterprise("L", 3, 4, 5)],
        public_bodies_control_percent=24.99,
        eu_controlled=True,
        planned_model={
            "parameters": 400_000_000_000,
            "from_scratch": True,
            "mixture_of_experts": True,
            "open_weights": False,
        },
    )
    assert application_to_dict(parse_application(document)) == document
    assert json.loads(json.dumps(application_to_dict(parse_application(document)))) == document


def test_a_document_that_is_not_an_object_is_refused():
    assert errors_for([1, 2]) == {"$": ["expected an object"]}


def test_every_missing_field_is_reported_not_defaulted():
    errors = errors_for({})
    assert all(messages == ["this field is required"] for messages in errors.values())
    assert "previous_period" in errors and "partner_enterprises" in errors and "planned_model" in errors
    assert "eu_controlled" not in errors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("staff_headcount", True, "expected a number, not true or false"),
        ("staff_headcount", "180", "expected a number"),
        ("annual_turnover_eur", -1, "must not be negative"),
        ("annual_turnover_eur", math.nan, "expected a finite number"),
        ("balance_sheet_total_eur", math.inf, "must be between 0 and 10,000,000,000,000"),  # JSON's 1e400
        ("public_bodies_control_percent", 100.01, "must be between 0 and 100"),
        ("public_bodies_control_percent", -0.5, "must not be negative"),
        ("accounts_approved", "yes", "expected true or false"),
        ("responsible_ai_commitment", 1, "expected true or false"),
        ("legal_name", "  ", "must not be blank"),
        ("legal_name", 42, "expected a string"),
        ("large_scale_ai_experience", None, "expected a string"),
        ("founded_on", "2023-02-30", "expected a real date written YYYY-MM-DD"),
        ("founded_on", "16/11/2023", "expected a real date written YYYY-MM-DD"),
        ("founded_on", "20231116", "expected a real date written YYYY-MM-DD"),
        ("partner_enterprises", None, "expected a list (it may be empty)"),
        ("previous_period", [], "expected an object"),
        ("planned_model", None, "expected an object"),
        ("eu_controlled", "true", "expected true or false"),
    ],
)
def test_a_bad_value_is_reported_at_its_field(data, field, value, message):
    assert errors_for(data(**{field: value})) == {field: [message]}


@pytest.mark.parametrize("code", ["lv", "UK", "EU", "XX", "LVA"])
def test_an_unknown_country_code_is_refused(data, code):
    assert list(errors_for(data(country=code))) == ["country"]


@pytest.mark.parametrize("code", ["XK", "FO", "AX", "GB", "US"])
def test_any_iso_3166_alpha_2_code_is_accepted_including_kosovo(make, code):
    assert make(country=code).country == code


def test_a_future_founding_date_is_accepted(make):
    assert make(founded_on="2031-01-01").founded_on.year == 2031


def test_nested_errors_name_their_path_and_all_are_collected(data, enterprise):
    errors = errors_for(
        data(
            staff_headcount=-3,
            partner_enterprises=[
                enterprise("Fine", 1, 1, 1, stake_percent=30, investor_type=None),
                {
                    "name": "",
                    "stake_percent": 120,
                    "staff_headcount": False,
                    "annual_turnover_eur": 1,
                    "investor_type": "hedge_fund",
                    "colour": "red",
                },
            ],
            linked_enterprises=[enterprise("L", 1, 1, math.inf)],
            previous_period={"staff_headcount": 1, "annual_turnover_eur": 1},
            planned_model={"parameters": 1.5, "from_scratch": "yes"},
        )
    )
    assert errors == {
        "staff_headcount": ["must not be negative"],
        "partner_enterprises[1].colour": ["unknown field"],
        "partner_enterprises[1].name": ["must not be blank"],
        "partner_enterprises[1].stake_percent": ["must be between 0 and 100"],
        "partner_enterprises[1].investor_type": [
            "expected null or one of: public_investment_corporation, venture_capital, business_angel, "
            "university, institutional_investor, local_authority"
        ],
        "partner_enterprises[1].staff_headcount": ["expected a number, not true or false"],
        "partner_enterprises[1].balance_sheet_total_eur": ["this field is required"],
        "linked_enterprises[0].balance_sheet_total_eur": ["must be between 0 and 10,000,000,000,000"],
        "previous_period.balance_sheet_total_eur": ["this field is required"],
        "planned_model.parameters": ["expected a positive whole number"],
        "planned_model.from_scratch": ["expected true or false"],
    }


@pytest.mark.parametrize("stake", [50.01, 51, 100])
def test_a_partner_stake_over_50_percent_must_be_listed_as_linked(data, enterprise, stake):
    partner = enterprise("P", 1, 1, 1, stake_percent=stake, investor_type=None)
    assert errors_for(data(partner_enterprises=[partner])) == {
        "partner_enterprises[0].stake_percent": [
            "a stake over 50% makes it a linked enterprise: list it under linked_enterprises"
        ]
    }


@pytest.mark.parametrize("parameters", [0, -5, True, "30B", 3e10])
def test_planned_parameters_must_be_a_positive_whole_number(data, parameters):
    errors = errors_for(data(planned_model={"parameters": parameters, "from_scratch": True}))
    assert errors == {"planned_model.parameters": ["expected a positive whole number"]}


def test_an_unknown_top_level_field_is_refused(data):
    assert errors_for(data(staf_headcount=3)) == {"staf_headcount": ["unknown field"]}


def test_the_json_schema_requires_exactly_the_fields_the_parser_requires():
    required = set(APPLICATION_JSON_SCHEMA["required"])
    assert required == set(errors_for({}))
    assert set(APPLICATION_JSON_SCHEMA["properties"]) == required | {"eu_controlled"}
    assert "XK" in APPLICATION_JSON_SCHEMA["properties"]["country"]["enum"]
    json.dumps(APPLICATION_JSON_SCHEMA)
