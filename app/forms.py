"""The base of every web form: Flask-WTF's form (CSRF token included) rendered so that a page can hold several
forms without repeating an id."""
from __future__ import annotations

from flask_wtf import FlaskForm


class WebForm(FlaskForm):
    """A Flask-WTF form whose CSRF token renders without an id: a page with several forms (a header's sign-out,
    per-row actions) would otherwise repeat `id="csrf_token"`, and an id must be unique on a page."""

    class Meta:
        def render_field(self, field, render_kw):
            """Render a field; the CSRF token's hidden input gets no id (nothing refers to it)."""
            if field.type == "CSRFTokenField":
                render_kw = {**render_kw, "id": False}
            return super().render_field(field, render_kw)
