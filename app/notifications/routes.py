"""The notifications page, marking as read, and each person's notification preferences."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from app.forms import WebForm

from app.db import get_session
from app.notifications import services
from app.notifications.rules import KINDS
from app.security import signed_in

bp = Blueprint("notifications", __name__, template_folder="templates")


class ButtonForm(WebForm):
    """Only the CSRF token: mark as read."""


class PreferencesForm(WebForm):
    """The CSRF token; the check boxes (`email-<kind>`, `dashboard-<kind>`) are read from the request."""


@bp.app_context_processor
def unread_notifications() -> dict:
    """`notifications_unread` for the navigation of signed-in people."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(get_session(), current_user.id)

    return {"notifications_unread": count}


@bp.route("/notifications")
@signed_in
def index():
    """The person's notifications, newest first."""
    items = services.inbox(get_session(), current_user.id)
    return render_template("notifications/index.html", items=items, kinds=KINDS, form=ButtonForm())


@bp.route("/notifications/read", methods=["POST"])
@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@signed_in
def mark_read(notification_id: int | None = None):
    """Mark one notification (or all of them) as read."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    session = get_session()
    services.mark_read(session, current_user.id, notification_id)
    session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@signed_in
def preferences():
    """Which kinds of notification the person gets, by e-mail and on the dashboard."""
    session = get_session()
    form = PreferencesForm()
    if form.validate_on_submit():
        choices = {kind: (f"email-{kind}" in request.form, f"dashboard-{kind}" in request.form) for kind in KINDS}
        services.set_preferences(session, current_user.id, choices)
        session.commit()
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        kinds=KINDS,
        chosen=services.preferences_of(session, current_user.id),
    ), 400 if form.errors else 200
