"""The organisers' page of the sites: each site's cluster, whether its agent is online, when it was last heard
from, what runs and waits there, and which agent it runs. Read-only (sites are added and revoked with
``flask sites``, since a token is shown once on the organiser's own terminal)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.accounts.models import Role
from app.db import get_session, utcnow
from app.security import roles
from evaluation.sites.services import site_rows

bp = Blueprint("sites", __name__, url_prefix="/organiser/sites", template_folder="templates")


@bp.route("/")
@roles(Role.organiser)
def index():
    settings = current_app.config["LAGC"]
    rows = site_rows(get_session(), utcnow(), settings.site_lease_seconds)
    return render_template("sites/index.html", sites=rows, lease_seconds=settings.site_lease_seconds)
