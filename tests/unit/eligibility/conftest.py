"""Fixtures for the eligibility unit tests: a valid 2024 application to vary one field at a time.

The fixtures return plain functions (session-scoped, so hypothesis tests may use them too); the suite runs
with --import-mode=importlib, so helpers live here rather than in an importable module.
"""

import copy
from typing import Any

import pytest

from app.eligibility.application import Application, parse_application

VALID_APPLICATION: dict[str, Any] = {
    "legal_name": "Baltic Language Models SIA",
    "country": "LV",
    "founded_on": "2019-03-04",
    "staff_headcount": 180,
    "annual_turnover_eur": 12_000_000,
    "balance_sheet_total_eur": 9_000_000,
    "accounts_approved": True,
    "previous_period": None,
    "partner_enterprises": [],
    "linked_enterprises": [],
    "public_bodies_control_percent": 0,
    "responsible_ai_commitment": True,
    "large_scale_ai_experience": "We trained a 7B multilingual model on LUMI in 2023.",
    "planned_model": {"parameters": 30_000_000_000, "from_scratch": True},
}


def enterprise(name: str, staff: float, turnover: float, balance: float, **extra: Any) -> dict[str, Any]:
    """A partner or linked enterprise entry."""
    return {
        "name": name,
        "staff_headcount": staff,
        "annual_turnover_eur": turnover,
        "balance_sheet_total_eur": balance,
        **extra,
    }


def application_data(**overrides: Any) -> dict[str, Any]:
    """A fresh copy of the valid application with some top-level fields replaced."""
    return {**copy.deepcopy(VALID_APPLICATION), **copy.deepcopy(overrides)}


def make_application(**overrides: Any) -> Application:
    """The valid application, parsed, with some top-level fields replaced."""
    return parse_application(application_data(**overrides))


@pytest.fixture(name="make", scope="session")
def make_fixture():
    """Build a parsed application: `make(country="NO")`."""
    return make_application


@pytest.fixture(name="data", scope="session")
def data_fixture():
    """Build an application document: `data(country="NO")`."""
    return application_data


@pytest.fixture(name="enterprise", scope="session")
def enterprise_fixture():
    """Build a partner or linked enterprise entry."""
    return enterprise
