"""Who may compete: one small function per rule, a rule set as data, and a verdict that gives its reasons.

The SME rule follows the Annex to Commission Recommendation 2003/361/EC. All figures are Decimals so the
ceilings compare exactly: 249 staff pass and 250 fail; EUR 50,000,000 turnover passes and 50,000,001 does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.eligibility.application import Application, Figures
from app.eligibility.countries import (
    COUNTRY_NAMES,
    EU_MEMBER_STATES,
    HORIZON_EUROPE_ASSOCIATIONS,
    Association,
    association_on,
    country_label,
)

STAFF_CEILING = Decimal(250)  # an SME has *fewer than* 250 annual work units
TURNOVER_CEILING_EUR = Decimal(50_000_000)  # not exceeding
BALANCE_SHEET_CEILING_EUR = Decimal(43_000_000)  # not exceeding
PUBLIC_CONTROL_LIMIT_PERCENT = Decimal(25)  # 25% or more: not an SME
RULE_IDS = ("country", "eu_control", "sme", "public_control", "responsible_ai", "experience", "model_plan")
_BOOL_KEYS = (
    "allow_associated_countries",
    "require_from_scratch",
    "require_mixture_of_experts",
    "require_open_weights",
)


@dataclass(frozen=True)
class Check:
    """One rule's outcome ("pass", "review" or "fail") and the reason, in words a founder understands."""

    rule: str
    outcome: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """The check as JSON."""
        return {"rule": self.rule, "outcome": self.outcome, "reason": self.reason}


@dataclass(frozen=True)
class Verdict:
    """ "eligible", "needs_review" or "ineligible", with one check per rule of the rule set."""

    status: str
    checks: tuple[Check, ...]

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON."""
        return {"status": self.status, "checks": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class RuleSet:
    """A challenge's eligibility rules: the `[eligibility]` section of its TOML configuration."""

    call_date: date
    rules: tuple[str, ...]
    allow_associated_countries: bool
    min_parameters: int
    require_from_scratch: bool
    require_mixture_of_experts: bool
    require_open_weights: bool
    associations: tuple[Association, ...] = HORIZON_EUROPE_ASSOCIATIONS

    @classmethod
    def from_config(cls, d: Mapping[str, Any]) -> RuleSet:
        """Build a rule set from a plain dict, raising ValueError naming the offending key."""
        if not isinstance(d, Mapping):
            raise ValueError("eligibility: expected a table of settings")
        required = ("call_date", "rules", "min_parameters", *_BOOL_KEYS)
        for key in d:
            if key not in (*required, "associated_countries"):
                raise ValueError(f"eligibility.{key}: unknown setting")
        for key in required:
            if key not in d:
                raise ValueError(f"eligibility.{key}: required setting is missing")
        for key in _BOOL_KEYS:
            if not isinstance(d[key], bool):
                raise ValueError(f"eligibility.{key}: expected true or false")
        minimum = d["min_parameters"]
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
            raise ValueError("eligibility.min_parameters: expected a positive whole number")
        associations = d.get("associated_countries")
        return cls(
            call_date=_config_date(d["call_date"], "eligibility.call_date"),
            rules=_config_rules(d["rules"]),
            min_parameters=d["min_parameters"],
            **{key: d[key] for key in _BOOL_KEYS},
            associations=HORIZON_EUROPE_ASSOCIATIONS if associations is None else _config_associations(associations),
        )

    @classmethod
    def default_2024(cls) -> RuleSet:
        """The 2024 Large AI Grand Challenge rules (call of 16 November 2023)."""
        return cls.from_config(DEFAULT_2024_CONFIG)

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Optional application fields that this rule set needs (pass to `parse_application(require=...)`)."""
        needed = {
            "eu_controlled": "eu_control" in self.rules,
            "planned_model.mixture_of_experts": "model_plan" in self.rules and self.require_mixture_of_experts,
            "planned_model.open_weights": "model_plan" in self.rules and self.require_open_weights,
        }
        return tuple(field for field, need in needed.items() if need)


DEFAULT_2024_CONFIG: dict[str, Any] = {
    "call_date": "2023-11-16",
    "rules": ["country", "sme", "public_control", "responsible_ai", "experience", "model_plan"],
    "allow_associated_countries": True,
    "min_parameters": 30_000_000_000,
    "require_from_scratch": True,
    "require_mixture_of_experts": False,
    "require_open_weights": False,
}


def _config_date(value: object, key: str) -> date:
    """A TOML date (or a "YYYY-MM-DD" string) from the configuration."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{key}: expected a date written YYYY-MM-DD")


def _config_rules(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError("eligibility.rules: expected a non-empty list of rule ids")
    for rule in value:
        if rule not in RULE_IDS:
            raise ValueError(f"eligibility.rules: unknown rule {rule!r} (known: {', '.join(RULE_IDS)})")
    if len(set(value)) != len(value):
        raise ValueError("eligibility.rules: a rule is listed twice")
    return tuple(value)


def _config_associations(value: object) -> tuple[Association, ...]:
    if not isinstance(value, list):
        raise ValueError("eligibility.associated_countries: expected a list of tables")
    found = []
    for i, item in enumerate(value):
        key = f"eligibility.associated_countries[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"code", "since", "until"} or "since" not in item:
            raise ValueError(f"{key}: expected a table with code, since and optionally until")
        if item.get("code") not in COUNTRY_NAMES:
            raise ValueError(f"{key}.code: unknown country code {item.get('code')!r}")
        until = item.get("until")
        found.append(
            Association(
                item["code"],
                _config_date(item["since"], f"{key}.since"),
                None if until is None else _config_date(until, f"{key}.until"),
            )
        )
    return tuple(found)


# --- formatting for reasons -------------------------------------------------------------------------------


def _num(amount: Decimal) -> str:
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount.normalize():,}"


def _eur(amount: Decimal) -> str:
    return f"EUR {_num(amount)}"


# --- the SME rule: aggregation, ceilings and the two-period rule ------------------------------------------

_INVESTOR_WORDS = {
    "public_investment_corporation": "a public investment corporation",
    "venture_capital": "a venture capital company",
    "business_angel": "a business angel",
    "university": "a university or non-profit research centre",
    "institutional_investor": "an institutional investor",
    "local_authority": "an autonomous local authority",
}


def _counts_as_partner(stake: Decimal, investor_type: str | None) -> bool:
    """Article 3(2): 25% to 50% makes a partner, unless the holder is one of the listed investors."""
    return Decimal(25) <= stake <= Decimal(50) and investor_type is None


def _aggregate(app: Application, field: str, show: Callable[[Decimal], str]) -> tuple[Decimal, str]:
    """The enterprise's figure plus partners in proportion to the stake and linked enterprises in full."""
    total, terms = getattr(app.figures, field), [show(getattr(app.figures, field))]
    for p in app.partner_enterprises:
        if _counts_as_partner(p.stake_percent, p.investor_type):
            share = getattr(p.figures, field) * p.stake_percent / 100
            total += share
            terms.append(f"{_num(p.stake_percent)}% of partner {p.name}'s {show(getattr(p.figures, field))}")
    for e in app.linked_enterprises:
        total += getattr(e.figures, field)
        terms.append(f"linked enterprise {e.name}'s {show(getattr(e.figures, field))}")
    expression = " + ".join(terms) + (f" = {show(total)}" if len(terms) > 1 else "")
    return total, expression


def _within(f: Figures) -> bool:
    """Article 2: fewer than 250 staff, and turnover or balance sheet total within its ceiling."""
    return f.staff_headcount < STAFF_CEILING and (
        f.annual_turnover_eur <= TURNOVER_CEILING_EUR or f.balance_sheet_total_eur <= BALANCE_SHEET_CEILING_EUR
    )


def _compare(total: Decimal, ceiling: Decimal, show: Callable[[Decimal], str], strict: bool = False) -> str:
    within = total < ceiling if strict else total <= ceiling
    return (
        f"{'under' if strict else 'within'} the {show(ceiling)} ceiling"
        if within
        else (f"not under the {show(ceiling)} ceiling" if strict else f"above the {show(ceiling)} ceiling")
    )


def _aggregated_figures(app: Application) -> tuple[Figures, str]:
    """This period's aggregated figures and sentences showing how each was added up."""
    staff, staff_text = _aggregate(app, "staff_headcount", _num)
    turnover, turnover_text = _aggregate(app, "annual_turnover_eur", _eur)
    balance, balance_text = _aggregate(app, "balance_sheet_total_eur", _eur)
    financial_ok = turnover <= TURNOVER_CEILING_EUR or balance <= BALANCE_SHEET_CEILING_EUR
    text = " ".join(
        (
            f"Staff: {staff_text} annual work units, {_compare(staff, STAFF_CEILING, _num, strict=True)}.",
            f"Turnover: {turnover_text}, {_compare(turnover, TURNOVER_CEILING_EUR, _eur)}.",
            f"Balance sheet total: {balance_text}, {_compare(balance, BALANCE_SHEET_CEILING_EUR, _eur)}",
        )
    )
    text += (
        " (meeting one of the two financial ceilings is enough)."
        if financial_ok
        else ("; an SME must meet at least one of the two financial ceilings.")
    )
    return Figures(staff, turnover, balance), text


def _period(f: Figures) -> str:
    return (
        f"(staff {_num(f.staff_headcount)}, turnover {_eur(f.annual_turnover_eur)}, "
        f"balance sheet total {_eur(f.balance_sheet_total_eur)})"
    )


def _not_added(app: Application) -> str:
    """Which holdings were left out of the figures, and why."""
    notes = []
    for p in app.partner_enterprises:
        if p.stake_percent < 25:
            notes.append(
                f" {p.name} ({_num(p.stake_percent)}%) is not added: below 25% the enterprises are autonomous."
            )
        elif p.investor_type is not None:
            notes.append(
                f" {p.name} ({_num(p.stake_percent)}%, {_INVESTOR_WORDS[p.investor_type]}) is not added: "
                "such an investor may hold 25% to 50% without making your enterprise a partner "
                "(Article 3(2))."
            )
    return "".join(notes)


def check_sme(app: Application, rules: RuleSet) -> Check:
    """Recommendation 2003/361/EC: ceilings after aggregation, with Article 4(2)'s two consecutive periods."""
    current, text = _aggregated_figures(app)
    text += _not_added(app)
    if not app.accounts_approved:
        text = (
            "These figures are good-faith estimates, as a new enterprise without approved accounts may "
            "give (Article 4(3)). "
        ) + text
    previous = app.previous_period
    if _within(current):
        if previous is not None and not _within(previous):
            return Check(
                "sme",
                "review",
                f"{text} Your previous period {_period(previous)} exceeded the ceilings, "
                "and under Article 4(2) an enterprise becomes an SME only after two consecutive periods "
                "within them: an organiser will check the period before.",
            )
        return Check("sme", "pass", "An SME. " + text)
    if previous is not None and _within(previous):
        return Check(
            "sme",
            "pass",
            f"Still an SME. {text} Your previous period {_period(previous)} was within "
            "the ceilings, and under Article 4(2) the status is lost only when a ceiling is exceeded over "
            "two consecutive accounting periods.",
        )
    if previous is not None:
        why = f" Your previous period {_period(previous)} exceeded them too."
    else:
        why = (
            " No previous period was given, so Article 4(2), which keeps the status for one period over the "
            "ceilings, cannot apply."
        )
    return Check("sme", "fail", "Not an SME: large enterprises are not eligible. " + text + why)


# --- the other rules --------------------------------------------------------------------------------------


def check_public_control(app: Application, rules: RuleSet) -> Check:
    """Article 3(4): an enterprise 25% or more controlled by public bodies is not an SME."""
    share = f"Public bodies control {_num(app.public_bodies_control_percent)}% of your capital or voting rights"
    if app.public_bodies_control_percent >= PUBLIC_CONTROL_LIMIT_PERCENT:
        return Check(
            "public_control",
            "fail",
            share + ": an enterprise 25% or more controlled by public bodies is not an SME (Article 3(4)).",
        )
    return Check("public_control", "pass", share + ", under the 25% limit.")


def check_country(app: Application, rules: RuleSet) -> Check:
    """The registered office is in the EU-27 or, where allowed, a Horizon Europe associated country."""
    label, on = country_label(app.country), rules.call_date.isoformat()
    if app.country in EU_MEMBER_STATES:
        return Check("country", "pass", f"{label} is an EU member state.")
    if not rules.allow_associated_countries:
        return Check(
            "country",
            "fail",
            f"{label} is not an EU member state, and this challenge is open only to enterprises established in the EU.",
        )
    association = association_on(app.country, rules.call_date, rules.associations)
    if association is not None:
        return Check(
            "country",
            "pass",
            f"{label} is associated to Horizon Europe (since "
            f"{association.since.isoformat()}) on this call's date, {on}.",
        )
    detail = "".join(
        f"; its association applies from {a.since.isoformat()}" + (f" until {a.until.isoformat()}" if a.until else "")
        for a in rules.associations
        if a.code == app.country
    )
    return Check(
        "country",
        "fail",
        f"{label} is neither an EU member state nor associated to Horizon Europe on this call's date, {on}{detail}.",
    )


def check_eu_control(app: Application, rules: RuleSet) -> Check:
    """The enterprise is controlled from the EU (rule sets that enable `eu_control`)."""
    if app.eu_controlled is None:
        return Check("eu_control", "fail", "The application does not say whether the enterprise is EU-controlled.")
    if app.eu_controlled:
        return Check("eu_control", "pass", "The enterprise declares that it is EU-controlled.")
    return Check("eu_control", "fail", "This challenge is open only to EU-controlled enterprises.")


def check_responsible_ai(app: Application, rules: RuleSet) -> Check:
    """A signed commitment to the EU's trustworthy-AI principles."""
    if app.responsible_ai_commitment:
        return Check("responsible_ai", "pass", "You committed to the EU's principles for trustworthy AI.")
    return Check("responsible_ai", "fail", "The commitment to the EU's principles for trustworthy AI is not signed.")


def check_experience(app: Application, experience_confirmed: bool) -> Check:
    """Evidence of large-scale AI experience: `review` until an organiser confirms it."""
    if not app.large_scale_ai_experience.strip():
        return Check("experience", "fail", "No evidence of experience with large-scale AI models was given.")
    if experience_confirmed:
        return Check("experience", "pass", "An organiser confirmed your experience with large-scale AI models.")
    return Check(
        "experience", "review", "An organiser will check your evidence of experience with large-scale AI models."
    )


def _billions(n: int) -> str:
    return f"{_num(Decimal(n) / 10**9)} billion"


def _flag_problem(value: bool | None, required: bool, what: str) -> list[str]:
    if not required or value:
        return []
    if value is None:
        return [f"the application does not say whether the model is {what}"]
    return [f"the model must be {what}"]


def check_model_plan(app: Application, rules: RuleSet) -> Check:
    """The planned foundation model: size, from scratch, and (where required) mixture-of-experts, open weights."""
    m, problems = app.planned_model, []
    if m.parameters < rules.min_parameters:
        problems.append(
            f"{_billions(m.parameters)} parameters is fewer than the {_billions(rules.min_parameters)} required"
        )
    problems += _flag_problem(m.from_scratch, rules.require_from_scratch, "trained from scratch")
    problems += _flag_problem(m.mixture_of_experts, rules.require_mixture_of_experts, "a mixture-of-experts model")
    problems += _flag_problem(m.open_weights, rules.require_open_weights, "released with open weights")
    if problems:
        return Check("model_plan", "fail", "The planned model does not qualify: " + "; ".join(problems) + ".")
    return Check(
        "model_plan",
        "pass",
        f"A {_billions(m.parameters)}-parameter model, at least the "
        f"{_billions(rules.min_parameters)} required, meets this challenge's requirements.",
    )


_CHECKS = {
    "country": check_country,
    "eu_control": check_eu_control,
    "sme": check_sme,
    "public_control": check_public_control,
    "responsible_ai": check_responsible_ai,
    "model_plan": check_model_plan,
}


def decide(application: Application, rules: RuleSet, *, experience_confirmed: bool = False) -> Verdict:
    """Run every rule of the rule set: ineligible if any fails, needs_review if any awaits review, else eligible."""
    checks = tuple(
        check_experience(application, experience_confirmed)
        if rule == "experience"
        else _CHECKS[rule](application, rules)
        for rule in rules.rules
    )
    outcomes = {c.outcome for c in checks}
    status = "ineligible" if "fail" in outcomes else "needs_review" if "review" in outcomes else "eligible"
    return Verdict(status, checks)
