"""Eligibility pages: an entrant's application and verdict, the organisers' review queue and decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import Role, User
from app.api.problems import status_of
from app.challenges.models import Challenge
from app.challenges.services import PhaseClosed, get_challenge, phase_gate
from app.db import get_session
from app.eligibility.application import ApplicationErrors
from app.eligibility.forms import (
    ApplicationForm,
    ConfirmExperienceForm,
    JsonDocumentForm,
    OverrideForm,
    attach_errors,
    document_from_form,
    form_data,
    json_document,
)
from app.eligibility.models import EligibilityApplication
from app.eligibility.services import (
    DecisionError,
    EligibilityStatus,
    applications_of,
    confirm_experience,
    current_status,
    decisions_of,
    override,
    review_queue,
    rules_for,
    submit_application,
    team_is_eligible,
)
from app.security import roles
from app.teams.models import Team
from app.teams.services import no_team_reason, team_of

bp = Blueprint(
    "eligibility", __name__, template_folder="templates", static_folder="static", static_url_path="/static/eligibility"
)

BADGES = {"eligible": "open", "needs_review": "upcoming", "ineligible": "closed", "not_applied": ""}


@bp.app_template_global()
def eligibility_of(team: Team) -> EligibilityStatus:
    """A team's current eligibility, for dashboards and scorecards."""
    return current_status(get_session(), team.id)


@bp.app_template_global()
def eligibility_queue_count() -> int:
    """How many teams wait for an organiser's eligibility review."""
    return len(review_queue(get_session()))


@bp.app_template_global()
def eligibility_badge(status: str) -> str:
    """The CSS class of a status badge."""
    return BADGES.get(status, "")


def _entrant_team(slug: str) -> tuple[Challenge, Team]:
    session = get_session()
    challenge = get_challenge(session, slug) or abort(404)
    team = team_of(session, current_user, challenge.id)
    if team is None:
        flash(no_team_reason(challenge, "fill in the eligibility application"), "error")
        abort(redirect(url_for("web.dashboard")))
    return challenge, team


def _page(
    challenge: Challenge,
    team: Team,
    form: ApplicationForm,
    json_form: JsonDocumentForm,
    problems: list[str] | None = None,
    status: int = 200,
):
    session = get_session()
    state = current_status(session, team.id)
    return render_template(
        "eligibility/apply.html",
        challenge=challenge,
        team=team,
        form=form,
        json_form=json_form,
        state=state,
        gate=team_is_eligible(session, team.id),
        versions=applications_of(session, team.id),
        required=rules_for(challenge).required_fields,
        problems=problems or [],
        phase=phase_gate(challenge, "apply"),
    ), status


def _submit(challenge: Challenge, team: Team, data: object, on_error):
    """Store the version or answer 422 with the errors placed by `on_error`."""
    session = get_session()
    try:
        application = submit_application(session, team, current_user, data, rules_for(challenge))
    except ApplicationErrors as exc:
        session.rollback()
        return on_error(exc.errors)
    except PhaseClosed as closed:
        session.rollback()
        return _closed(challenge, team, closed)
    session.commit()
    flash(f"Version {application.version} of your application is saved.", "success")
    return redirect(url_for("eligibility.apply", slug=challenge.slug))


def _closed(challenge: Challenge, team: Team, closed: PhaseClosed):
    """The page again, saying why nothing was saved (409: the phase does not allow applying now)."""
    return _page(challenge, team, ApplicationForm(), JsonDocumentForm(prefix="json"), [str(closed)], status_of(closed))


@bp.route("/c/<slug>/eligibility", methods=["GET", "POST"])
@roles(Role.entrant)
def apply(slug: str):
    """The team's application form, its current verdict with reasons, and every version sent."""
    challenge, team = _entrant_team(slug)
    latest = applications_of(get_session(), team.id)
    form = ApplicationForm(data=form_data(latest[0].document) if latest else None)
    json_form = JsonDocumentForm(prefix="json")
    if request.method == "GET":
        return _page(challenge, team, form, json_form)
    if json_form.send_json.data:
        return _apply_json(challenge, team, form, json_form)
    if not form.validate_on_submit():
        return _page(challenge, team, form, json_form, ["The form expired; please send it again."], 400)
    if form.add_partner.data or form.add_linked.data:
        (form.partner_enterprises if form.add_partner.data else form.linked_enterprises).append_entry()
        return _page(challenge, team, form, json_form)
    document, rows = document_from_form(form)
    return _submit(
        challenge,
        team,
        document,
        lambda errors: _page(challenge, team, form, json_form, attach_errors(form, errors, rows), 422),
    )


def _apply_json(challenge: Challenge, team: Team, form: ApplicationForm, json_form: JsonDocumentForm):
    if not json_form.validate_on_submit():
        return _page(challenge, team, form, json_form, ["The form expired; please send it again."], 400)
    data, problem = json_document(json_form)
    if problem:
        json_form.text.errors = [problem]
        return _page(challenge, team, form, json_form, [problem], 422)
    return _submit(
        challenge,
        team,
        data,
        lambda errors: _page(
            challenge,
            team,
            form,
            json_form,
            [f"{p or 'the document'}: {m}" for p, ms in errors.items() for m in ms],
            422,
        ),
    )


@bp.route("/organiser/eligibility")
@roles(Role.organiser)
def queue():
    """Applications waiting for an organiser: needs review, or experience evidence not yet confirmed."""
    return render_template("eligibility/queue.html", pending=review_queue(get_session()))


@bp.route("/eligibility/applications/<int:application_id>")
@roles(Role.organiser, Role.judge)
def application(application_id: int):
    """One application version: the document, its verdict, the team's status and history (judges read only)."""
    session = get_session()
    found = session.get(EligibilityApplication, application_id) or abort(404)
    team = session.get(Team, found.team_id)
    state = current_status(session, team.id)
    decisions = decisions_of(session, team.id)
    versions = applications_of(session, team.id)
    people = {
        uid: session.get(User, uid) for uid in {d.organiser_id for d in decisions} | {v.submitted_by for v in versions}
    }
    return render_template(
        "eligibility/application.html",
        application=found,
        team=team,
        state=state,
        people=people,
        versions=versions,
        decisions=decisions,
        is_current=state.application is not None and state.application.id == found.id,
        can_decide=Role(current_user.role) is Role.organiser,
        confirm_form=ConfirmExperienceForm(),
        override_form=OverrideForm(),
    )


def _decide(application_id: int, act) -> object:
    session = get_session()
    found = session.get(EligibilityApplication, application_id) or abort(404)
    try:
        message = act(session, found)
    except DecisionError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("eligibility.application", application_id=application_id))
    session.commit()
    flash(message, "success")
    return redirect(url_for("eligibility.application", application_id=application_id))


@bp.route("/organiser/eligibility/applications/<int:application_id>/confirm", methods=["POST"])
@roles(Role.organiser)
def confirm(application_id: int):
    """Confirm the experience evidence of the team's current version."""
    if not ConfirmExperienceForm().validate_on_submit():
        abort(400)

    def act(session, found):
        confirm_experience(session, found, current_user)
        team = session.get(Team, found.team_id)
        return f"Experience confirmed: {team.name} is now {current_status(session, team.id).words}."

    return _decide(application_id, act)


@bp.route("/organiser/eligibility/applications/<int:application_id>/override", methods=["POST"])
@roles(Role.organiser)
def override_verdict(application_id: int):
    """Override the verdict of the team's current version, with a written justification."""
    form = OverrideForm()
    if not form.validate_on_submit():
        abort(400)

    def act(session, found):
        override(session, found, current_user, form.status.data or "", form.justification.data or "")
        return f"Verdict overridden: {form.status.data}."

    return _decide(application_id, act)
