"""Licence pages: the organisers' review queue and obligations, and a winner's release declaration."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlmodel import select

from app.accounts.models import Role
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.checkpoints.models import Submission
from app.db import get_session, utcnow
from app.licences.forms import AcceptForm, PublicationForm, ResolveForm, WeightsForm
from app.licences.hub import fetch_release
from app.licences.models import ReleaseObligation
from app.licences.obligations import (
    accept_obligation,
    declare_publication,
    declare_weights,
    obligations_for_organisers,
    obligations_of_team,
    standing,
)
from app.licences.policy import release_terms
from app.licences.services import (
    LicenceError,
    effective_verdict,
    latest_resolution,
    policy_of,
    resolve_review,
    submissions_in_review,
)
from app.security import roles
from app.teams.models import Team
from app.teams.services import team_of

bp = Blueprint("licences", __name__, template_folder="templates")

_LABELS = {"pass": ("passes", "open"), "review": ("in review", "upcoming"), "fail": ("fails", "closed")}


@bp.app_template_global()
def licence_status(submission: Submission) -> dict:
    """What `licences/_verdict.html` shows: the effective verdict, its badge, the licence and the reasons."""
    resolution = latest_resolution(get_session(), submission.id) if submission.id else None
    verdict = effective_verdict(get_session(), submission) if submission.id else submission.licence_verdict
    label, css = _LABELS.get(verdict or "", ("not checked yet", ""))
    return {
        "verdict": verdict,
        "label": label,
        "css": css,
        "licence": submission.licence_id,
        "reasons": submission.licence_reasons or [],
        "resolution": resolution,
    }


@bp.route("/organiser/licences")
@roles(Role.organiser)
def review_queue():
    """Submissions waiting for a licence decision, overdue release obligations and declarations to accept."""
    session = get_session()
    overdue, awaiting = obligations_for_organisers(session)
    return render_template(
        "licences/organiser.html",
        in_review=submissions_in_review(session),
        overdue=overdue,
        awaiting=awaiting,
        form=ResolveForm(),
        accept_form=AcceptForm(),
        teams={t.id: t for t in session.exec(select(Team)).all()},
    )


@bp.route("/organiser/licences/<int:submission_id>/resolve", methods=["POST"])
@roles(Role.organiser)
def resolve(submission_id: int):
    session = get_session()
    submission = session.get(Submission, submission_id) or abort(404)
    form = ResolveForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("licences.review_queue"))
    try:
        resolve_review(session, submission, form.outcome.data, form.justification.data, current_user.id)
    except LicenceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("licences.review_queue"))
    session.commit()
    flash(f"Licence of submission {submission.label!r} resolved: {form.outcome.data}.", "success")
    return redirect(url_for("licences.review_queue"))


@bp.route("/organiser/licences/obligations/<int:obligation_id>/accept", methods=["POST"])
@roles(Role.organiser)
def accept(obligation_id: int):
    session = get_session()
    obligation = session.get(ReleaseObligation, obligation_id) or abort(404)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            accept_obligation(session, obligation, current_user.id, form.notes.data or "")
            session.commit()
            flash("Release accepted: the obligation is met.", "success")
        except LicenceError as exc:
            flash(str(exc), "error")
    return redirect(url_for("licences.review_queue"))


def _team_or_404(slug: str) -> tuple[Challenge, Team]:
    session = get_session()
    challenge = get_challenge(session, slug) or abort(404)
    team = team_of(session, current_user, challenge.id) or abort(404)
    return challenge, team


@bp.route("/c/<slug>/release")
@roles(Role.entrant)
def release(slug: str):
    """A team's release obligations, with the forms to declare the weights or a publication."""
    challenge, team = _team_or_404(slug)
    return render_template(
        "licences/release.html",
        challenge=challenge,
        team=team,
        obligations=obligations_of_team(get_session(), team.id),
        now=utcnow(),
        terms=release_terms(policy_of(challenge)),
        standing=standing,
        weights_form=WeightsForm(),
        publication_form=PublicationForm(),
    )


def _own_obligation(slug: str, obligation_id: int) -> ReleaseObligation:
    """The caller's team's obligation; anyone else's is a 404 (its existence is not revealed)."""
    _challenge, team = _team_or_404(slug)
    obligation = get_session().get(ReleaseObligation, obligation_id)
    if obligation is None or obligation.team_id != team.id:
        abort(404)
    return obligation


@bp.route("/c/<slug>/release/<int:obligation_id>/weights", methods=["POST"])
@roles(Role.entrant)
def declare_release_weights(slug: str, obligation_id: int):
    obligation, form = _own_obligation(slug, obligation_id), WeightsForm()
    if form.validate_on_submit():
        endpoint = current_app.config["LAGC"].hub_endpoint
        _declare(
            lambda: declare_weights(
                get_session(),
                obligation,
                form.hub_repo.data,
                form.revision.data,
                lambda r, v: fetch_release(endpoint, r, v),
                current_user.id,
            )
        )
    else:
        flash("Give the Hub repository and the revision.", "error")
    return redirect(url_for("licences.release", slug=slug))


@bp.route("/c/<slug>/release/<int:obligation_id>/publication", methods=["POST"])
@roles(Role.entrant)
def declare_release_publication(slug: str, obligation_id: int):
    obligation, form = _own_obligation(slug, obligation_id), PublicationForm()
    if form.validate_on_submit():
        _declare(lambda: declare_publication(get_session(), obligation, form.publication_id.data, current_user.id))
    else:
        flash("Give a DOI or an arXiv id.", "error")
    return redirect(url_for("licences.release", slug=slug))


def _declare(action) -> None:
    """Run a declaration, commit it and say what happened."""
    try:
        obligation = action()
    except LicenceError as exc:
        flash(str(exc), "error")
        return
    get_session().commit()
    if obligation.status.value == "met":
        flash("Release recorded: the obligation is met.", "success")
    elif obligation.release_verdict == "fail":
        flash("The release's licence fails the check; see why below, fix it and declare again.", "error")
    else:
        flash("Declaration recorded: an organiser will review it.", "success")
