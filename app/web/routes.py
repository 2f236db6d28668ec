"""The challenge's public pages and each role's dashboard."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_login import current_user
from app.forms import WebForm
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.accounts.models import Role, User
from app.challenges.gating import ACTIONS, utc_words
from app.challenges.services import config_of, get_challenge, list_challenges, phase_gate, phases_of
from app.db import get_session, utcnow
from app.ops.headers import public_page
from app.prizes.services import team_prize
from app.organiser import auditlog
from app.security import public, roles, signed_in
from app.teams.models import Team
from app.teams.services import TeamError, register_team, teams_of
from scoring import stderr_note

bp = Blueprint("web", __name__, template_folder="templates")


bp.add_app_template_global(utc_words, "utc_words")
bp.add_app_template_global(stderr_note, "stderr_note")  # why a score has no ±, on every page that shows one


class TeamForm(WebForm):
    name = StringField("Team (start-up) name", validators=[DataRequired(), Length(min=2, max=120)])


@bp.route("/")
@public
def home():
    session = get_session()
    challenges = list_challenges(session)
    return public_page(
        render_template(
            "web/home.html",
            challenges=challenges,
            now=utcnow(),
            phases={c.id: phases_of(session, c) for c in challenges},
            allows={c.id: _allowed_words(c) for c in challenges},
        )
    )


@bp.route("/favicon.ico")
@public
def favicon():
    """The site's icon where browsers, bookmarks and feed readers look for it without a `<link rel="icon">`
    (the pages name the sharper favicon.svg)."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
    )


# What each entrant action reads as in the phase tables.
_ACTION_WORDS = {"register": "register a team", "apply": "apply for eligibility", "submit": "submit checkpoints"}


def _allowed_words(found) -> dict[str, str]:
    """Phase key -> what entrants may do in it, in words ("" for nothing), from the stored configuration."""
    return {
        phase.key: ", ".join(_ACTION_WORDS[action] for action in ACTIONS if action in phase.actions)
        for phase in config_of(found).phases
    }


@bp.route("/c/<slug>")
@public
def challenge(slug: str):
    session = get_session()
    found = get_challenge(session, slug)
    if found is None:
        abort(404, f"There is no challenge called {slug!r}.")
    from app.prizes.records import chain_of, published_award

    return public_page(
        render_template(
            "web/challenge.html",
            challenge=found,
            config=config_of(found),
            phases=phases_of(session, found),
            now=utcnow(),
            allows=_allowed_words(found),
            winners_published=published_award(chain_of(session, found.id)) is not None,
        )
    )


@bp.route("/dashboard")
@signed_in
def dashboard():
    session = get_session()
    role = Role(current_user.role)
    context = {"role": role, "challenges": list_challenges(session)}
    if role is Role.entrant:
        context.update(_entrant_view(session), team_form=TeamForm())
    elif role is Role.organiser:
        context["counts"] = {
            "teams": len(session.exec(select(Team.id)).all()),
            "entrants": len(session.exec(select(User.id).where(User.role == Role.entrant)).all()),
            "judges": len(session.exec(select(User.id).where(User.role == Role.judge)).all()),
        }
        context["events"] = auditlog.latest(session, 20)
    return render_template(f"web/dashboard_{role.value}.html", **context)


def _entrant_view(session) -> dict:
    """For the entrant's dashboard: the challenges (those with the entrant's team first, then those open for
    registration, then the rest), the entrant's teams, each challenge's gates (register, apply, submit), and
    what each team won (`app.prizes.services.team_prize`)."""
    now = utcnow()
    challenges = list_challenges(session)
    teams = {t.challenge_id: t for t in teams_of(session, current_user)}
    gates = {c.id: {action: phase_gate(c, action, now) for action in ACTIONS} for c in challenges}
    ordered = sorted(challenges, key=lambda c: (c.id not in teams, not gates[c.id]["register"].allowed))
    prizes = {c.id: team_prize(session, c, teams[c.id].id, now) for c in challenges if c.id in teams}
    return {"challenges": ordered, "teams": teams, "gates": gates, "prizes": prizes}


@bp.route("/c/<slug>/teams", methods=["POST"])
@roles(Role.entrant)
def register(slug: str):
    session = get_session()
    found = get_challenge(session, slug)
    if found is None:
        abort(404)
    form, error, status = TeamForm(), None, 422
    if form.validate_on_submit():
        try:
            register_team(session, current_user, found, form.name.data)
            session.commit()
            flash(f"Team registered for {found.name}.", "success")
            return redirect(url_for("web.dashboard"))
        except (TeamError, IntegrityError) as exc:
            session.rollback()
            message = str(exc) if isinstance(exc, TeamError) else "You already belong to a team in this challenge."
            if isinstance(exc, TeamError) and exc.field:
                form.name.errors.append(message)
            else:
                error = message
            if isinstance(exc, TeamError) and exc.phase_closed:
                status = 409
    return render_template(
        "web/dashboard_entrant.html",
        role=Role.entrant,
        team_form=form,
        form_for=slug,
        error=error,
        **_entrant_view(session),
    ), status
