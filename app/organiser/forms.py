"""Organiser console forms; Flask-WTF adds a CSRF token to each that changes something."""

from app.forms import WebForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ConfigForm(WebForm):
    """The configuration file in a textarea; `previewed_sha256` ties "Save" to the text that was previewed."""

    text = TextAreaField("Configuration (TOML)", validators=[DataRequired(), Length(max=512 * 1024)])
    previewed_sha256 = HiddenField()


class ImportForm(WebForm):
    file = FileField("Configuration file (.toml)", validators=[FileRequired()])


class BaselineForm(WebForm):
    model = StringField(
        "Baseline model (e.g. Llama-3-8B, or a Hub repository)", validators=[DataRequired(), Length(max=100)]
    )


class AuditSearchForm(WebForm):
    """A GET search form: no CSRF token (it changes nothing and its URL can be shared)."""

    class Meta:
        csrf = False

    challenge = SelectField("Challenge", choices=[], validators=[Optional()])
    action = StringField("Action starts with", validators=[Optional(), Length(max=80)])
    actor = StringField("Actor e-mail (or “system”)", validators=[Optional(), Length(max=254)])
    subject = StringField("Subject (type or type:id)", validators=[Optional(), Length(max=130)])
    since = DateField("From (UTC)", validators=[Optional()])
    until = DateField("Until (UTC, inclusive)", validators=[Optional()])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])
