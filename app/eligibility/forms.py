"""The eligibility application as a web form, and its translation to and from the JSON document.

The form does no checking of its own beyond CSRF: it turns what was typed into the JSON document and lets
`parse_application` judge it, so the page, the API and the CLI give the same message for the same mistake.
A blank field is left out of the document (and reported as missing), never given a default.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from app.forms import WebForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from app.eligibility.application import FIGURE_FIELDS, INVESTOR_TYPES
from app.eligibility.countries import COUNTRY_NAMES
from app.jsonbody import MAX_JSON_BYTES, JsonBodyError, load_json


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


YES_NO = _choices([("yes", "Yes"), ("no", "No")])
ROWS = 3
MAX_ROWS = 30
INVESTOR_CHOICES = _choices(
    [("", "None of these (an ordinary partner)")] + [(t, t.replace("_", " ").capitalize()) for t in INVESTOR_TYPES]
)
FIGURE_LABELS = {
    "staff_headcount": "Staff (annual work units)",
    "annual_turnover_eur": "Annual turnover (EUR)",
    "balance_sheet_total_eur": "Balance sheet total (EUR)",
}
_NUMERIC = {"inputmode": "decimal"}


def _figures(cls: type, prefix: str = "") -> None:
    for key in FIGURE_FIELDS:
        setattr(cls, prefix + key, StringField(FIGURE_LABELS[key], render_kw=_NUMERIC))


class LinkedRow(Form):
    """One linked enterprise (more than 50%): its figures count in full."""

    name = StringField("Name")


class PartnerRow(Form):
    """One partner enterprise (up to 50%), or an investor that Article 3(2) leaves out."""

    name = StringField("Name")
    stake_percent = StringField("Stake (%)", render_kw=_NUMERIC)
    investor_type = SelectField("Kind of holder", choices=INVESTOR_CHOICES, validate_choice=False)


_figures(LinkedRow)
_figures(PartnerRow)


class ApplicationForm(WebForm):
    """Every field of the JSON document; partners and linked enterprises as repeatable rows."""

    legal_name = StringField("Legal name of the enterprise")
    country = SelectField(
        "Country of the registered office",
        validate_choice=False,
        choices=_choices(
            [("", "Choose…")]
            + sorted(((code, f"{name} ({code})") for code, name in COUNTRY_NAMES.items()), key=lambda c: c[1])
        ),
    )
    founded_on = StringField("Founded on", render_kw={"type": "date"})
    accounts_approved = RadioField("Are these figures from approved accounts?", choices=YES_NO, validate_choice=False)
    partner_enterprises = FieldList(FormField(PartnerRow), min_entries=ROWS, max_entries=MAX_ROWS)
    linked_enterprises = FieldList(FormField(LinkedRow), min_entries=ROWS, max_entries=MAX_ROWS)
    public_bodies_control_percent = StringField("Share held by public bodies (%)", render_kw=_NUMERIC)
    responsible_ai_commitment = BooleanField("We commit to the EU's principles for trustworthy AI")
    large_scale_ai_experience = TextAreaField(
        "Evidence of experience with large-scale AI models", render_kw={"rows": 4}
    )
    planned_parameters = StringField("Parameters of the planned model", render_kw={"inputmode": "numeric"})
    planned_from_scratch = RadioField("Trained from scratch?", choices=YES_NO, validate_choice=False)
    planned_mixture_of_experts = RadioField("A mixture-of-experts model?", choices=YES_NO, validate_choice=False)
    planned_open_weights = RadioField("Released with open weights?", choices=YES_NO, validate_choice=False)
    eu_controlled = RadioField("Is the enterprise controlled from the EU?", choices=YES_NO, validate_choice=False)
    add_partner = SubmitField("Add a partner row")
    add_linked = SubmitField("Add a linked enterprise row")
    send = SubmitField("Send the application")


_figures(ApplicationForm)
_figures(ApplicationForm, "previous_")


class JsonDocumentForm(WebForm):
    """The application as a JSON document, pasted or uploaded (the same document the API takes)."""

    text = TextAreaField("Paste the JSON document", render_kw={"rows": 8, "spellcheck": "false"})
    upload = FileField("or upload a .json file")
    send_json = SubmitField("Send the JSON document")


class ConfirmExperienceForm(WebForm):
    """An organiser confirms the experience evidence."""

    confirm = SubmitField("Confirm the experience evidence")


class OverrideForm(WebForm):
    """An organiser overrides a verdict, with a justification the team will read."""

    status = RadioField(
        "Decide", choices=_choices([("eligible", "Eligible"), ("ineligible", "Not eligible")]), validate_choice=False
    )
    justification = TextAreaField(
        "Justification (at least 20 characters; the team and the audit log read it)", render_kw={"rows": 3}
    )
    override = SubmitField("Override the verdict")


_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _number(text: str | None) -> Any:
    """A typed number as int or Decimal, as the JSON parser would give it; anything else is passed on as
    text so that the parser names the problem, and its bounds apply to both alike."""
    cleaned = (text or "").strip().replace(" ", "").replace("_", "")
    match = _DECIMAL.fullmatch(cleaned)
    if match is None:
        return text
    if "." not in cleaned and match.group(3) is None and len(cleaned) <= 4000:  # int() stops at 4,300 digits
        return int(cleaned)
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # an exponent beyond Decimal's range: infinite or zero, as a float would be
        return float(cleaned)


def _put(doc: dict[str, Any], key: str, value: Any, kind: str = "text") -> None:
    """Set `key` only when something was entered: a blank field stays missing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return
    if kind == "number":
        doc[key] = _number(value)
    elif kind == "yes_no":
        doc[key] = value == "yes"
    else:
        doc[key] = value.strip() if isinstance(value, str) else value


def _figures_of(source: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in FIGURE_FIELDS:
        _put(out, key, getattr(source, prefix + key).data, "number")
    return out


def _rows(entries: list, partner: bool) -> tuple[list[dict[str, Any]], list[int]]:
    """Non-blank rows as documents, with the form row each came from (blank rows are dropped)."""
    rows, origin = [], []
    for i, entry in enumerate(entries):
        f = entry.form
        row: dict[str, Any] = {}
        _put(row, "name", f.name.data)
        if partner:
            _put(row, "stake_percent", f.stake_percent.data, "number")
        row.update(_figures_of(f))
        if row:
            if partner:
                row["investor_type"] = f.investor_type.data or None
            rows.append(row)
            origin.append(i)
    return rows, origin


def document_from_form(form: ApplicationForm) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The JSON document the form describes, and for each list the form row of every document item."""
    doc: dict[str, Any] = {}
    _put(doc, "legal_name", form.legal_name.data)
    _put(doc, "country", form.country.data)
    _put(doc, "founded_on", form.founded_on.data)
    doc.update(_figures_of(form))
    _put(doc, "accounts_approved", form.accounts_approved.data, "yes_no")
    previous = _figures_of(form, "previous_")
    doc["previous_period"] = previous or None
    doc["partner_enterprises"], partner_rows = _rows(form.partner_enterprises.entries, partner=True)
    doc["linked_enterprises"], linked_rows = _rows(form.linked_enterprises.entries, partner=False)
    _put(doc, "public_bodies_control_percent", form.public_bodies_control_percent.data, "number")
    doc["responsible_ai_commitment"] = bool(form.responsible_ai_commitment.data)
    doc["large_scale_ai_experience"] = (form.large_scale_ai_experience.data or "").strip()
    model: dict[str, Any] = {}
    _put(model, "parameters", form.planned_parameters.data, "number")
    for key in ("from_scratch", "mixture_of_experts", "open_weights"):
        _put(model, key, getattr(form, "planned_" + key).data, "yes_no")
    doc["planned_model"] = model
    _put(doc, "eu_controlled", form.eu_controlled.data, "yes_no")
    return doc, {"partner_enterprises": partner_rows, "linked_enterprises": linked_rows}


def form_data(doc: dict[str, Any]) -> dict[str, Any]:
    """Form data that shows a stored document again (to prefill the next version)."""
    yes_no = {True: "yes", False: "no", None: None}
    data: dict[str, Any] = {
        k: doc.get(k)
        for k in (
            "legal_name",
            "country",
            "founded_on",
            *FIGURE_FIELDS,
            "public_bodies_control_percent",
            "large_scale_ai_experience",
            "responsible_ai_commitment",
        )
    }
    data["accounts_approved"] = yes_no[doc.get("accounts_approved")]
    data["eu_controlled"] = yes_no[doc.get("eu_controlled")]
    for key, value in (doc.get("previous_period") or {}).items():
        data["previous_" + key] = value
    model = doc.get("planned_model") or {}
    data["planned_parameters"] = model.get("parameters")
    for key in ("from_scratch", "mixture_of_experts", "open_weights"):
        data["planned_" + key] = yes_no[model.get(key)]
    blank = [{}] * ROWS
    data["partner_enterprises"] = [
        {**p, "investor_type": p.get("investor_type") or ""} for p in doc.get("partner_enterprises", [])
    ] + blank
    data["linked_enterprises"] = list(doc.get("linked_enterprises", [])) + blank
    return {
        k: ("" if v is None else str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
        for k, v in data.items()
    }


def json_document(form: JsonDocumentForm) -> tuple[Any, str | None]:
    """The pasted or uploaded document, or an error message saying why it is not JSON."""
    raw: str | bytes = form.text.data or ""
    if form.upload.data and getattr(form.upload.data, "filename", ""):
        raw = form.upload.data.read(MAX_JSON_BYTES + 1)  # one byte more tells "too large"
    if not raw.strip():
        return None, "Paste the JSON document or choose a file."
    try:
        return load_json(raw), None
    except JsonBodyError as exc:
        return None, str(exc)


def _field_for(form: ApplicationForm, path: str, rows: dict[str, list[int]]) -> Any:
    """The form field a parser error path points at, or None."""
    head, _, rest = path.partition(".")
    if head == "previous_period" and rest:
        return getattr(form, "previous_" + rest, None)
    if head == "planned_model":
        return getattr(form, "planned_" + (rest or "parameters"), None)
    if "[" in head:
        name, index = head.rstrip("]").split("[")
        origin = rows.get(name, [])
        if not index.isdigit() or int(index) >= len(origin):
            return None
        row = getattr(form, name).entries[origin[int(index)]].form
        return getattr(row, rest or "name", None)
    return getattr(form, head, None) if not rest else None


def attach_errors(form: ApplicationForm, errors: dict[str, list[str]], rows: dict[str, list[int]]) -> list[str]:
    """Put each parser error on its field; return every error as "field: message" for the summary."""
    summary = []
    for path, messages in errors.items():
        target = _field_for(form, path, rows)
        for message in messages:
            summary.append(f"{path or 'the document'}: {message}")
            if target is not None:
                target.errors = [*target.errors, message]
    return summary
