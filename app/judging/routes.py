"""Judging pages: the scorecard (with the rubric form), the judge's entries and conflicts, and the
organisers' assignments, progress, finalisation and publication."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import Role
from app.api.problems import status_of
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.db import get_session
from app.errors import Kind
from app.forms import team_choices
from app.judging.forms import ActionForm, ConflictForm, LockForm, PublishJudgingForm, rubric_form
from app.judging.overview import judge_entries, organiser_overview
from app.judging.scorecard import build_scorecard
from app.judging.services import (
    JudgingError,
    MissingSheets,
    assign_judge,
    declare_conflict,
    entry_teams,
    finalise,
    is_recused,
    judging_state,
    publish,
    rubric_of,
    submit_sheet,
    unassign_judge,
)
from app.security import roles, signed_in

bp = Blueprint(
    "judging", __name__, template_folder="templates", static_folder="static", static_url_path="/static/judging"
)


def _challenge(slug: str) -> Challenge:
    found = get_challenge(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _scorecard_page(challenge: Challenge, team_id: int, form=None, status: int = 200):
    """Render the scorecard for the signed-in viewer; 404 when they may not see it, 403 (saying so) when the
    judge is recused from it."""
    session = get_session()
    try:
        card = build_scorecard(session, challenge, team_id, current_user)
    except JudgingError as exc:
        abort(403 if exc.kind is Kind.forbidden else 404, exc.message)
    if form is None and card.viewer == "judge":
        sheet = card.own_sheet
        form = rubric_form(card.rubric, sheet.scores if sheet else None, sheet.notes if sheet else "")
    return render_template("judging/scorecard.html", card=card, form=form), status


@bp.route("/c/<slug>/scorecards/<int:team_id>")
@signed_in
def scorecard(slug: str, team_id: int):
    """The entry's scorecard: judges (assigned, not recused), organisers and the team's own entrants."""
    return _scorecard_page(_challenge(slug), team_id)


@bp.route("/c/<slug>/scorecards/<int:team_id>", methods=["POST"])
@roles(Role.judge)
def score(slug: str, team_id: int):
    """Submit or revise the judge's rubric sheet: 422 with errors per criterion, 409 once locked."""
    challenge, session = _challenge(slug), get_session()
    form = rubric_form(rubric_of(challenge))
    if not form.validate_on_submit():
        return _scorecard_page(challenge, team_id, form, 422)
    try:
        submit_sheet(session, challenge, current_user, team_id, form.scores(), form.notes.data or "")
    except JudgingError as exc:
        session.rollback()
        if exc.kind in (Kind.forbidden, Kind.not_found):
            abort(status_of(exc), exc.message)
        form.add_errors(exc.errors)
        flash(exc.message, "error")
        return _scorecard_page(challenge, team_id, form, status_of(exc))
    session.commit()
    flash("Your scores are saved. The other judges' scores are now shown below.", "success")
    return redirect(url_for("judging.scorecard", slug=slug, team_id=team_id))


def _conflict_form(challenge: Challenge) -> ConflictForm:
    """The conflict form, offering only the teams the judge is not recused from yet."""
    session = get_session()
    form = ConflictForm()
    form.team_id.choices = team_choices(
        t for t in entry_teams(session, challenge) if not is_recused(session, challenge, current_user.id, t.id)
    )
    return form


@bp.route("/c/<slug>/judging")
@roles(Role.judge)
def judge_home(slug: str):
    """The judge's entries with their status (to score, submitted, recused) and the conflict form."""
    challenge = _challenge(slug)
    return _judge_page(challenge, _conflict_form(challenge))


def _judge_page(challenge: Challenge, form: ConflictForm, status: int = 200):
    session = get_session()
    return render_template(
        "judging/judge.html",
        challenge=challenge,
        form=form,
        entries=judge_entries(session, challenge, current_user),
        state=judging_state(session, challenge),
    ), status


@bp.route("/c/<slug>/judging/conflicts", methods=["POST"])
@roles(Role.judge)
def conflict(slug: str):
    """Declare a conflict of interest: the judge is recused from that team at once."""
    challenge, session = _challenge(slug), get_session()
    form = _conflict_form(challenge)
    if not form.validate_on_submit():
        return _judge_page(challenge, form, 422)
    try:
        declare_conflict(session, challenge, current_user, form.team_id.data, form.reason.data)
    except JudgingError as exc:
        session.rollback()
        form.reason.errors = list(form.reason.errors) + [exc.message]
        return _judge_page(challenge, form, status_of(exc))
    session.commit()
    flash("Conflict declared: you are recused from this team.", "success")
    return redirect(url_for("judging.judge_home", slug=slug))


@bp.route("/c/<slug>/judging/organise")
@roles(Role.organiser)
def organise(slug: str):
    """The assignment matrix, each entry's progress, and the finalise and publish forms."""
    return _organise_page(_challenge(slug))


def _organise_page(challenge: Challenge, status: int = 200, lock_form=None, publish_form=None, missing=()):
    """The organisers' judging page; `missing` lists the sheets a lock attempt found missing (asked again)."""
    return render_template(
        "judging/organise.html",
        challenge=challenge,
        form=ActionForm(),
        lock_form=lock_form or LockForm(formdata=None),
        publish_form=publish_form or PublishJudgingForm(formdata=None),
        missing=missing,
        **organiser_overview(get_session(), challenge),
    ), status


@bp.route("/c/<slug>/judging/assignments", methods=["POST"])
@roles(Role.organiser)
def assign(slug: str):
    """Apply the matrix: a ticked box assigns the judge, an unticked one removes the assignment."""
    challenge, session = _challenge(slug), get_session()
    if not ActionForm().validate_on_submit():
        abort(400)
    wanted = set(request.form.getlist("assign"))
    overview = organiser_overview(session, challenge)
    try:
        for judge in overview["judges"]:
            for team in overview["teams"]:
                key, current = f"{judge.id}:{team.id}", overview["matrix"][(judge.id, team.id)]
                if key in wanted and current == "none":
                    assign_judge(session, challenge, judge, team.id, actor_id=current_user.id)
                elif key not in wanted and current == "assigned":
                    unassign_judge(session, challenge, judge.id, team.id, actor_id=current_user.id)
    except JudgingError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("judging.organise", slug=slug))
    session.commit()
    flash("Assignments saved.", "success")
    return redirect(url_for("judging.organise", slug=slug))


@bp.route("/c/<slug>/judging/<any(lock, publish):act>", methods=["POST"])
@roles(Role.organiser)
def lock(slug: str, act: str):
    """Finalise (lock) judging, or publish the locked judges' scores, each once its confirmation is ticked.
    Locking while sheets are missing names them and asks again (409) until the organiser accepts those."""
    challenge, session = _challenge(slug), get_session()
    form = LockForm() if act == "lock" else PublishJudgingForm()
    forms = {"lock_form" if act == "lock" else "publish_form": form}
    if not form.validate_on_submit():
        return _organise_page(challenge, 422, **forms)
    try:
        if act == "lock":
            finalise(session, challenge, actor_id=current_user.id, accept_missing=form.accepted())
        else:
            publish(session, challenge, actor_id=current_user.id)
    except MissingSheets as exc:
        session.rollback()
        again = LockForm(formdata=None, accept_missing=",".join(m.key for m in exc.missing))
        return _organise_page(challenge, 409, lock_form=again, missing=exc.missing)
    except JudgingError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("judging.organise", slug=slug), 303)
    session.commit()
    flash("Judging finalised: scores are locked." if act == "lock" else "Judges' scores published.", "success")
    return redirect(url_for("judging.organise", slug=slug))
