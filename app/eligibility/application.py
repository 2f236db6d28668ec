"""The eligibility application: a JSON document parsed into frozen dataclasses, every error collected.

Nothing is defaulted silently: each required field must be present (`previous_period` may be null, lists
may be empty). Figures become `Decimal` so the ceilings of Recommendation 2003/361/EC compare exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.eligibility.countries import COUNTRY_NAMES
from app.errors import DomainError
from app.visible import hidden_character_problem

INVESTOR_TYPES: tuple[str, ...] = (
    "public_investment_corporation",
    "venture_capital",
    "business_angel",
    "university",
    "institutional_investor",
    "local_authority",
)
FIGURE_FIELDS = ("staff_headcount", "annual_turnover_eur", "balance_sheet_total_eur")
# Plausible ceilings, so that a typo or a hostile number is refused rather than stored: no enterprise has a
# turnover or balance sheet above EUR 10 trillion (the largest are under 1 trillion), nor more than 10 million
# staff (the largest employers have about 2 million), and no planned model has 100 trillion parameters.
MAX_EUR = 10**13
MAX_HEADCOUNT = 10**7
MAX_PARAMETERS = 10**14
FIGURE_MAXIMA = {"staff_headcount": MAX_HEADCOUNT, "annual_turnover_eur": MAX_EUR, "balance_sheet_total_eur": MAX_EUR}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Figures:
    """Staff in annual work units, turnover and balance sheet total in euros."""

    staff_headcount: Decimal
    annual_turnover_eur: Decimal
    balance_sheet_total_eur: Decimal


@dataclass(frozen=True)
class PartnerEnterprise:
    """An enterprise holding, or held at, 25% to 50% (or less: then it is autonomous)."""

    name: str
    stake_percent: Decimal
    figures: Figures
    investor_type: str | None


@dataclass(frozen=True)
class LinkedEnterprise:
    """An enterprise linked by a majority stake or dominant influence: its figures count in full."""

    name: str
    figures: Figures


@dataclass(frozen=True)
class PlannedModel:
    """The model the applicant means to build; the last two flags matter only to rule sets that check them."""

    parameters: int
    from_scratch: bool
    mixture_of_experts: bool | None = None
    open_weights: bool | None = None


@dataclass(frozen=True)
class Application:
    """A parsed, valid application."""

    legal_name: str
    country: str
    founded_on: date
    figures: Figures
    accounts_approved: bool
    previous_period: Figures | None
    partner_enterprises: tuple[PartnerEnterprise, ...]
    linked_enterprises: tuple[LinkedEnterprise, ...]
    public_bodies_control_percent: Decimal
    responsible_ai_commitment: bool
    large_scale_ai_experience: str
    planned_model: PlannedModel
    eu_controlled: bool | None = None


class ApplicationErrors(DomainError, ValueError):
    """Raised by `parse_application` (invalid); `errors` maps field paths ("$" for the document) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"{sum(map(len, errors.values()))} error(s) in the application", errors=errors)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class _Reader:
    """Reads fields out of plain JSON values, recording every problem instead of stopping at the first."""

    def __init__(self, require: Collection[str]):
        self.errors: dict[str, list[str]] = {}
        self.require = set(require)

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path or "$", []).append(message)

    def obj(self, value: object, path: str, allowed: Collection[str]) -> Mapping[str, Any] | None:
        """The value as an object (None if it is not one), with unknown keys reported."""
        if not isinstance(value, Mapping):
            self.error(path, "expected an object")
            return None
        for key in value:
            if key not in allowed:
                self.error(_join(path, str(key)), "unknown field")
        return value

    def get(self, d: Mapping[str, Any] | None, key: str, prefix: str, optional: bool = False) -> tuple[Any, str]:
        """The raw value and its path; a missing field is an error unless optional and not required."""
        path = _join(prefix, key)
        if d is not None and key not in d and not (optional and path not in self.require):
            self.error(path, "this field is required")
        return (d.get(key) if d is not None else None), path

    def text(self, d: Mapping[str, Any] | None, key: str, prefix: str, allow_blank: bool = False) -> str | None:
        value, path = self.get(d, key, prefix)
        if d is not None and key in d and not isinstance(value, str):
            self.error(path, "expected a string")
        elif isinstance(value, str) and not allow_blank and not value.strip():
            self.error(path, "must not be blank")
        return value if isinstance(value, str) else None

    def name(self, d: Mapping[str, Any] | None, key: str, prefix: str) -> str | None:
        """A name others read: text without invisible or direction-changing characters."""
        value = self.text(d, key, prefix)
        hidden = hidden_character_problem(value, "The name") if value else None
        if hidden:
            self.error(_join(prefix, key), hidden)
        return value

    def flag(self, d: Mapping[str, Any] | None, key: str, prefix: str, optional: bool = False) -> bool | None:
        value, path = self.get(d, key, prefix, optional)
        if d is not None and key in d and not isinstance(value, bool):
            self.error(path, "expected true or false")
            return None
        return value

    def number(self, d: Mapping[str, Any] | None, key: str, prefix: str, maximum: int | None = None) -> Decimal | None:
        value, path = self.get(d, key, prefix)
        if d is None or key not in d:
            return None
        amount = _to_decimal(value)
        if amount is None:
            self.error(path, _not_a_number(value))
        elif amount < 0:
            self.error(path, "must not be negative")
        elif maximum is not None and amount > maximum:
            self.error(path, f"must be between 0 and {maximum:,}")
        else:
            return amount
        return None

    def items(self, d: Mapping[str, Any], key: str) -> list[tuple[Any, str]]:
        value, path = self.get(d, key, "")
        if key in d and not isinstance(value, list):
            self.error(path, "expected a list (it may be empty)")
        return [(item, f"{path}[{i}]") for i, item in enumerate(value)] if isinstance(value, list) else []


def _not_a_number(value: object) -> str:
    if isinstance(value, bool):
        return "expected a number, not true or false"
    return "expected a finite number" if isinstance(value, (float, Decimal)) else "expected a number"


def _to_decimal(value: object) -> Decimal | None:
    """A JSON number as an exact Decimal (floats via their shortest repr, so 24.99 stays 24.99). An infinite
    float is what JSON's 1e400 becomes: it stays infinite, so that the bounds call it too large (or negative)
    exactly as they do 1e999 typed into the form, which Decimal holds exactly. NaN is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    amount = Decimal(repr(value)) if isinstance(value, float) and math.isfinite(value) else Decimal(value)
    return None if amount.is_nan() else amount


def _figures(r: _Reader, d: Mapping[str, Any] | None, prefix: str) -> Figures:
    return Figures(*(r.number(d, key, prefix, maximum=FIGURE_MAXIMA[key]) for key in FIGURE_FIELDS))


def _previous_period(r: _Reader, d: Mapping[str, Any]) -> Figures | None:
    value, path = r.get(d, "previous_period", "")
    if value is None:
        return None
    return _figures(r, r.obj(value, path, FIGURE_FIELDS), path)


def _partner(r: _Reader, value: object, path: str) -> PartnerEnterprise:
    d = r.obj(value, path, ("name", "stake_percent", "investor_type", *FIGURE_FIELDS))
    name = r.name(d, "name", path)
    stake = r.number(d, "stake_percent", path, maximum=100)
    if stake is not None and stake > 50:
        r.error(
            _join(path, "stake_percent"),
            "a stake over 50% makes it a linked enterprise: list it under linked_enterprises",
        )
    investor, investor_path = r.get(d, "investor_type", path)
    if investor is not None and investor not in INVESTOR_TYPES:
        r.error(investor_path, "expected null or one of: " + ", ".join(INVESTOR_TYPES))
    return PartnerEnterprise(name, stake, _figures(r, d, path), investor)


def _linked(r: _Reader, value: object, path: str) -> LinkedEnterprise:
    d = r.obj(value, path, ("name", *FIGURE_FIELDS))
    return LinkedEnterprise(r.name(d, "name", path), _figures(r, d, path))


def _planned_model(r: _Reader, d: Mapping[str, Any]) -> PlannedModel:
    value, path = r.get(d, "planned_model", "")
    allowed = ("parameters", "from_scratch", "mixture_of_experts", "open_weights")
    m = r.obj(value, path, allowed) if "planned_model" in d else None
    parameters, p_path = r.get(m, "parameters", path)
    if (
        m is not None
        and "parameters" in m
        and not (isinstance(parameters, int) and not isinstance(parameters, bool) and parameters > 0)
    ):
        r.error(p_path, "expected a positive whole number")
    elif m is not None and "parameters" in m and parameters > MAX_PARAMETERS:
        r.error(p_path, f"must be between 1 and {MAX_PARAMETERS:,}")
    return PlannedModel(
        parameters,
        r.flag(m, "from_scratch", path),
        mixture_of_experts=r.flag(m, "mixture_of_experts", path, optional=True),
        open_weights=r.flag(m, "open_weights", path, optional=True),
    )


def _country(r: _Reader, d: Mapping[str, Any]) -> str | None:
    code = r.text(d, "country", "")
    if code is not None and code.strip() and code not in COUNTRY_NAMES:
        r.error("country", f"unknown country code {code!r}: use the ISO 3166-1 alpha-2 code in capitals, e.g. 'LV'")
    return code


def _founded_on(r: _Reader, d: Mapping[str, Any]) -> date | None:
    text = r.text(d, "founded_on", "")
    if text is None or not text.strip():
        return None
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:  # e.g. 2023-02-30
            pass
    r.error("founded_on", "expected a real date written YYYY-MM-DD")
    return None


_TOP_LEVEL = (
    "legal_name",
    "country",
    "founded_on",
    *FIGURE_FIELDS,
    "accounts_approved",
    "previous_period",
    "partner_enterprises",
    "linked_enterprises",
    "public_bodies_control_percent",
    "responsible_ai_commitment",
    "large_scale_ai_experience",
    "planned_model",
    "eu_controlled",
)


def parse_application(data: object, *, require: Collection[str] = ()) -> Application:
    """Parse a JSON-decoded application, or raise `ApplicationErrors` listing every problem by field path.

    `require` names optional fields that the challenge's rule set needs (see `RuleSet.required_fields`),
    e.g. "eu_controlled" or "planned_model.open_weights".
    """
    r = _Reader(require)
    d = r.obj(data, "", _TOP_LEVEL)
    if not isinstance(data, Mapping):
        raise ApplicationErrors(r.errors)
    application = Application(
        legal_name=r.name(d, "legal_name", ""),
        country=_country(r, d),
        founded_on=_founded_on(r, d),
        figures=_figures(r, d, ""),
        accounts_approved=r.flag(d, "accounts_approved", ""),
        previous_period=_previous_period(r, d),
        partner_enterprises=tuple(_partner(r, v, p) for v, p in r.items(d, "partner_enterprises")),
        linked_enterprises=tuple(_linked(r, v, p) for v, p in r.items(d, "linked_enterprises")),
        public_bodies_control_percent=r.number(d, "public_bodies_control_percent", "", maximum=100),
        responsible_ai_commitment=r.flag(d, "responsible_ai_commitment", ""),
        large_scale_ai_experience=r.text(d, "large_scale_ai_experience", "", allow_blank=True),
        planned_model=_planned_model(r, d),
        eu_controlled=r.flag(d, "eu_controlled", "", optional=True),
    )
    if r.errors:
        raise ApplicationErrors(r.errors)
    return application


def _plain(amount: Decimal) -> int | float:
    """A Decimal back as a JSON number: whole amounts as integers."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _figures_dict(f: Figures) -> dict[str, int | float]:
    return {key: _plain(getattr(f, key)) for key in FIGURE_FIELDS}


def application_to_dict(app: Application) -> dict[str, Any]:
    """The application as the JSON document `parse_application` accepts (a round trip)."""
    model: dict[str, Any] = {"parameters": app.planned_model.parameters, "from_scratch": app.planned_model.from_scratch}
    for key in ("mixture_of_experts", "open_weights"):
        if getattr(app.planned_model, key) is not None:
            model[key] = getattr(app.planned_model, key)
    doc: dict[str, Any] = {
        "legal_name": app.legal_name,
        "country": app.country,
        "founded_on": app.founded_on.isoformat(),
        **_figures_dict(app.figures),
        "accounts_approved": app.accounts_approved,
        "previous_period": _figures_dict(app.previous_period) if app.previous_period else None,
        "partner_enterprises": [
            {
                "name": p.name,
                "stake_percent": _plain(p.stake_percent),
                **_figures_dict(p.figures),
                "investor_type": p.investor_type,
            }
            for p in app.partner_enterprises
        ],
        "linked_enterprises": [{"name": e.name, **_figures_dict(e.figures)} for e in app.linked_enterprises],
        "public_bodies_control_percent": _plain(app.public_bodies_control_percent),
        "responsible_ai_commitment": app.responsible_ai_commitment,
        "large_scale_ai_experience": app.large_scale_ai_experience,
        "planned_model": model,
    }
    if app.eu_controlled is not None:
        doc["eu_controlled"] = app.eu_controlled
    return doc


def _num(description: str, maximum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number", "minimum": 0, "description": description}
    return schema if maximum is None else {**schema, "maximum": maximum}


def _obj(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    required = [key for key in properties if key not in optional]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_FIGURES = {
    "staff_headcount": _num("Staff in annual work units (part-time and seasonal work as fractions).", MAX_HEADCOUNT),
    "annual_turnover_eur": _num("Annual turnover in euros.", MAX_EUR),
    "balance_sheet_total_eur": _num("Annual balance sheet total in euros.", MAX_EUR),
}
_NAME = {"type": "string", "minLength": 1}

APPLICATION_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "EligibilityApplication",
    **_obj(
        {
            "legal_name": _NAME,
            "country": {
                "type": "string",
                "enum": sorted(COUNTRY_NAMES),
                "description": "ISO 3166-1 alpha-2 code of the registered office (XK: Kosovo).",
            },
            "founded_on": {"type": "string", "format": "date"},
            **_FIGURES,
            "accounts_approved": {
                "type": "boolean",
                "description": "False for a new enterprise whose figures are good-faith estimates.",
            },
            "previous_period": {
                "oneOf": [{"type": "null"}, _obj(dict(_FIGURES))],
                "description": "The previous accounting period's figures, already aggregated.",
            },
            "partner_enterprises": {
                "type": "array",
                "items": _obj(
                    {
                        "name": _NAME,
                        "stake_percent": _num("Capital or voting rights, whichever is greater.", 50),
                        **_FIGURES,
                        "investor_type": {"enum": [None, *INVESTOR_TYPES]},
                    }
                ),
            },
            "linked_enterprises": {"type": "array", "items": _obj({"name": _NAME, **_FIGURES})},
            "public_bodies_control_percent": _num("Capital or voting rights held by public bodies.", 100),
            "responsible_ai_commitment": {"type": "boolean"},
            "large_scale_ai_experience": {"type": "string"},
            "planned_model": _obj(
                {
                    "parameters": {"type": "integer", "minimum": 1, "maximum": MAX_PARAMETERS},
                    "from_scratch": {"type": "boolean"},
                    "mixture_of_experts": {"type": "boolean"},
                    "open_weights": {"type": "boolean"},
                },
                optional=("mixture_of_experts", "open_weights"),
            ),
            "eu_controlled": {"type": "boolean"},
        },
        optional=("eu_controlled",),
    ),
}
