"""The base of every web form: Flask-WTF's form (CSRF token included) rendered so that a page can hold several
forms without repeating an id; and the fields forms share (a team drop-down that starts empty, the tick box
that confirms an irreversible act)."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired


class WebForm(FlaskForm):
    """A Flask-WTF form whose CSRF token renders without an id: a page with several forms (a header's sign-out,
    per-row actions) would otherwise repeat `id="csrf_token"`, and an id must be unique on a page."""

    class Meta:
        def render_field(self, field, render_kw):
            """Render a field; the CSRF token's hidden input gets no id (nothing refers to it)."""
            if field.type == "CSRFTokenField":
                render_kw = {**render_kw, "id": False}
            return super().render_field(field, render_kw)


CHOOSE_A_TEAM = ("", "Choose a team")


def _team_id(value: Any) -> Optional[int]:
    """A team drop-down's value: an id, or None for the "Choose a team" option (then "Choose a team." fails)."""
    if value in (None, ""):
        return None
    return int(value)


def team_select(label: str = "Team") -> SelectField:
    """A drop-down of teams that starts on "Choose a team", so nobody picks a real team by not looking."""
    return SelectField(label, coerce=_team_id, validators=[DataRequired("Choose a team.")])


def team_choices(teams: Iterable[Any]) -> list[tuple[Any, str]]:
    """The choices of a `team_select`: "Choose a team" first, then each team (anything with `id` and `name`)."""
    return [CHOOSE_A_TEAM] + [(team.id, team.name) for team in teams]


def confirmation(consequence: str) -> BooleanField:
    """A required tick box that names what an irreversible action does; the form is refused without it (on the
    server; the browser's `required` check needs no script)."""
    return BooleanField(consequence, validators=[DataRequired("Tick the box to confirm: this cannot be undone.")])
