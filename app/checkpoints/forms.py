"""Forms of the submission pages (Flask-WTF, CSRF on each)."""

from __future__ import annotations

from app.forms import WebForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class UploadSubmissionForm(WebForm):
    label = StringField("Label (e.g. the model's name and version)", validators=[DataRequired(), Length(max=120)])


class HubSubmissionForm(WebForm):
    label = StringField("Label", validators=[DataRequired(), Length(max=120)])
    hub_repo = StringField(
        "Repository on the Hugging Face Hub (organisation/name)", validators=[DataRequired(), Length(max=200)]
    )
    hub_revision = StringField(
        "Revision (branch, tag or commit)", default="main", validators=[DataRequired(), Length(max=200)]
    )
    hub_token = PasswordField(
        "Access token (only for private or gated repositories; deleted after the download)",
        validators=[Optional(), Length(max=400)],
    )


class FinaliseForm(WebForm):
    """Only the CSRF token: the button says every file is uploaded."""


class CountedChoiceForm(WebForm):
    """Which evaluated submission counts for the team: its id, or empty for the latest scored one."""

    submission_id = HiddenField()
