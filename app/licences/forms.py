"""Forms of the licence pages: an organiser's resolution and acceptance, a winner's release declaration."""

from __future__ import annotations

from app.forms import WebForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.licences.services import MIN_JUSTIFICATION


class ResolveForm(WebForm):
    outcome = RadioField(
        "Decision",
        choices=[("pass", "Pass: the licence is acceptable"), ("fail", "Fail: the licence is not acceptable")],
        validators=[DataRequired(message="Choose pass or fail.")],
    )
    justification = TextAreaField(
        "Justification (kept in the audit log)",
        validators=[
            DataRequired(message="Write why."),
            Length(
                min=MIN_JUSTIFICATION,
                max=4000,
                message=f"Write at least {MIN_JUSTIFICATION} characters (at most 4,000).",
            ),
        ],
    )


class AcceptForm(WebForm):
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])


class WeightsForm(WebForm):
    hub_repo = StringField("Public Hub repository (owner/name)", validators=[DataRequired(), Length(max=200)])
    revision = StringField(
        "Revision (branch, tag or commit)", default="main", validators=[DataRequired(), Length(max=200)]
    )


class PublicationForm(WebForm):
    publication_id = StringField("DOI or arXiv id", validators=[DataRequired(), Length(max=200)])
