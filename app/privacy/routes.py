"""The privacy page, a person's data download, and erasure of their account."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, logout_user
from app.forms import WebForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length

from app.db import get_session
from app.privacy import services
from app.privacy.retention import policy as retention_policy
from app.security import public, signed_in

bp = Blueprint("privacy", __name__, template_folder="templates")


class ErasureForm(WebForm):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=200)])
    confirm = BooleanField(
        "I understand that my account is erased for good and cannot be restored",
        validators=[DataRequired("Tick the box to confirm.")],
    )


def _policy():
    s = current_app.config["LAGC"]
    return retention_policy(
        s.retention_notification_days,
        s.retention_invitation_days,
        s.retention_audit_years,
        s.retention_application_years,
    )


@bp.route("/privacy")
@public
def policy():
    """What the platform keeps about people, why, and for how long."""
    return render_template("privacy/policy.html", items=_policy())


@bp.route("/account/data")
@signed_in
def my_data():
    """The download and erasure page."""
    return render_template("privacy/my_data.html", form=ErasureForm())


@bp.route("/account/data.json")
@signed_in
def download():
    """All personal data the platform holds about the signed-in person, as a JSON file."""
    data = services.export_personal_data(get_session(), current_user)
    response = Response(json.dumps(data, indent=2, ensure_ascii=False, default=str), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="lagc-personal-data-{current_user.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/erase", methods=["POST"])
@signed_in
def erase():
    """Erase the signed-in person's account after they confirm with their password."""
    form = ErasureForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            services.erase(session, current_user, form.password.data)
        except services.ErasureRefused as exc:
            session.rollback()
            form.password.errors.append(str(exc))
        else:
            session.commit()
            logout_user()
            flash("Your account is erased. Thank you for taking part.", "success")
            return redirect(url_for("web.home"))
    return render_template("privacy/my_data.html", form=form), 422
