"""The submission pages: a team's submissions, starting one (upload or Hub reference), uploading its files
with pause and resume (static/upload.js, tus under /uploads with the session and the X-CSRFToken header),
what validation found, and which evaluated submission counts for the team (`evaluation.choice`: the team may
choose one until the board freezes). Organisers see every submission; other teams get 404."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlmodel import select

from app.accounts.models import Role
from app.api.problems import problem, status_of
from app.challenges.models import Challenge
from app.challenges.services import get_challenge, phase_gate
from app.checkpoints import uploads
from app.checkpoints.forms import CountedChoiceForm, FinaliseForm, HubSubmissionForm, UploadSubmissionForm
from app.checkpoints.hub import HubError
from app.checkpoints.intake import finalise
from app.checkpoints.services import (
    IntakeError,
    create_submission,
    limits_of,
    own_receiving_submission,
    start_hub_submission,
    submissions_for,
    uploads_of,
    visible_submission,
)
from app.db import database_id, get_session
from app.errors import Kind
from app.extensions import csrf
from app.security import public, roles
from app.teams.models import Team
from app.teams.services import no_team_reason, team_of
from evaluation.choice import ChoiceRefused, choice_panel, choose

bp = Blueprint(
    "checkpoints", __name__, template_folder="templates", static_folder="static", static_url_path="/static/checkpoints"
)
CHUNK_BYTES = 8 * 1024 * 1024  # the browser's chunk size: under the app's 16 MiB request cap


def _challenge(slug: str) -> Challenge:
    found = get_challenge(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _gate(challenge: Challenge) -> tuple[bool, str]:
    """Whether the entrant's team may start a submission, and why not."""
    from app.eligibility.services import team_is_eligible

    team = team_of(get_session(), current_user, challenge.id)
    if team is None:
        return False, no_team_reason(challenge, "you can submit checkpoints once it is eligible")
    return team_is_eligible(get_session(), team.id)


@bp.route("/c/<slug>/submissions")
@roles(Role.entrant, Role.organiser)
def index(slug: str):
    return _index(_challenge(slug))


def _index(challenge: Challenge, status: int = 200):
    """The submissions page; after a refused start, with the refusal's status (its message is flashed)."""
    session = get_session()
    found = submissions_for(session, current_user, challenge)
    teams = {t.id: t.name for t in session.exec(select(Team).where(Team.challenge_id == challenge.id))}
    gate = _gate(challenge) if current_user.role == Role.entrant.value else (False, "")
    team = team_of(session, current_user, challenge.id) if current_user.role == Role.entrant.value else None
    return render_template(
        "checkpoints/index.html",
        challenge=challenge,
        submissions=found,
        teams=teams,
        gate=gate,
        phase=phase_gate(challenge, "submit"),
        limits=limits_of(challenge),
        upload_form=UploadSubmissionForm(),
        hub_form=HubSubmissionForm(),
        counted=choice_panel(session, challenge, team.id) if team else None,
        choice_form=CountedChoiceForm(),
    ), status


@bp.route("/c/<slug>/submissions/counted", methods=["POST"])
@roles(Role.entrant)
def choose_counted(slug: str):
    """The team chooses which of its evaluated submissions counts (empty: its latest scored one)."""
    challenge, session = _challenge(slug), get_session()
    form = CountedChoiceForm()
    team = team_of(session, current_user, challenge.id) or abort(404)
    raw = (form.submission_id.data or "").strip()
    if not form.validate_on_submit():
        abort(400)
    chosen = database_id(raw) if raw else None
    if raw and chosen is None:
        abort(404)
    try:
        choice = choose(session, challenge, team, current_user.id, chosen)
    except ChoiceRefused as refused:
        session.rollback()
        if refused.kind is Kind.not_found:
            abort(404)
        flash(refused.message, "error")
        return _index(challenge, status_of(refused))
    session.commit()
    flash(
        "Your latest scored submission counts again."
        if choice.submission_id is None
        else "Your choice is recorded: this submission counts for your team.",
        "success",
    )
    return redirect(url_for("checkpoints.index", slug=slug), 303)


@bp.route("/c/<slug>/submissions", methods=["POST"])
@roles(Role.entrant)
def create(slug: str):
    challenge, session = _challenge(slug), get_session()
    form = UploadSubmissionForm()
    if form.validate_on_submit():
        try:
            submission = create_submission(session, current_user, challenge, form.label.data)
            session.commit()
            return redirect(url_for("checkpoints.detail", submission_id=submission.id))
        except IntakeError as error:
            session.rollback()
            flash(error.message, "error")
            return _index(challenge, status_of(error))
    return redirect(url_for("checkpoints.index", slug=slug))


@bp.route("/c/<slug>/submissions/hub", methods=["POST"])
@roles(Role.entrant)
def create_hub(slug: str):
    challenge, session = _challenge(slug), get_session()
    form = HubSubmissionForm()
    if form.validate_on_submit():
        try:
            submission = start_hub_submission(
                session,
                current_app.config["LAGC"],
                current_user,
                challenge,
                form.label.data,
                form.hub_repo.data,
                form.hub_revision.data,
                form.hub_token.data or None,
            )
            session.commit()
            flash("The revision is pinned; the files are being downloaded.", "success")
            return redirect(url_for("checkpoints.detail", submission_id=submission.id))
        except (IntakeError, HubError) as error:
            session.rollback()
            flash(str(error), "error")
            return _index(challenge, status_of(error))
    else:
        flash("Fill in the label, the repository and the revision.", "error")
    return redirect(url_for("checkpoints.index", slug=slug))


@bp.route("/submissions/<int:submission_id>")
@roles(Role.entrant, Role.organiser)
def detail(submission_id: int):
    session = get_session()
    submission = visible_submission(session, current_user, submission_id)
    if submission is None:
        abort(404)
    challenge = session.get(Challenge, submission.challenge_id)
    can_upload = (
        current_user.role == Role.entrant.value
        and submission.status.value == "receiving"
        and submission.source.value == "upload"
    )
    uploads = uploads_of(session, submission.id)
    all_received = bool(uploads) and all(upload.offset >= upload.length for upload in uploads)  # Finalise enabled
    return render_template(
        "checkpoints/detail.html",
        submission=submission,
        challenge=challenge,
        team=session.get(Team, submission.team_id),
        uploads=uploads,
        all_received=all_received,
        can_upload=can_upload,
        finalise_form=FinaliseForm(),
        chunk_bytes=CHUNK_BYTES,
        limits=limits_of(challenge),
        phase=phase_gate(challenge, "submit"),
    )


@bp.route("/submissions/<int:submission_id>/finalise", methods=["POST"])
@roles(Role.entrant)
def finalise_view(submission_id: int):
    session = get_session()
    if FinaliseForm().validate_on_submit():
        try:
            submission = own_receiving_submission(session, current_user, submission_id)
            finalise(session, current_app.config["LAGC"], submission, current_user.id)
            session.commit()
            if submission.status.value == "rejected":
                flash("The checkpoint was refused; the findings below say why.", "error")
            else:
                flash("All files are in. They are being hashed and stored; this page updates when done.", "success")
        except IntakeError as error:
            session.rollback()
            if error.kind is Kind.not_found:
                abort(404)
            flash(error.message, "error")
    return redirect(url_for("checkpoints.detail", submission_id=submission_id))


# tus for the browser: the session cookie identifies the entrant; the X-CSRFToken header proves the page.
# Flask-WTF's own check is skipped because it would parse the chunk as a form; the header is checked here.
def _browser_location(upload_id: str) -> str:
    return url_for("checkpoints.tus_upload", upload_id=upload_id)


def _check_csrf_header():
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        return problem(400, "The page's CSRF token is missing or wrong: reload the page.")
    return None


@bp.route("/uploads", methods=["OPTIONS"])
@public
@csrf.exempt
@uploads.tus_view
def tus_options():
    return uploads.options()


@bp.route("/uploads", methods=["POST"])
@roles(Role.entrant)
@csrf.exempt
@uploads.tus_view
def tus_create():
    return _check_csrf_header() or uploads.create(current_user, _browser_location)


@bp.route("/uploads/<upload_id>", methods=["HEAD", "PATCH", "DELETE"])
@roles(Role.entrant)
@csrf.exempt
@uploads.tus_view
def tus_upload(upload_id: str):
    if request.method != "HEAD" and (refused := _check_csrf_header()) is not None:
        return refused
    handler = {"HEAD": uploads.head, "PATCH": uploads.patch, "DELETE": uploads.terminate}[request.method]
    return handler(current_user, upload_id)
