"""Prize pages: the organisers' award page (preview, confirm, tie-break, forfeit, re-run, publish, history
with the chain check) and the public winners page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlmodel import select

from app.accounts.models import Role
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.db import get_session, utcnow
from app.prizes import workflow
from app.forms import team_choices
from app.prizes.forms import ConfirmForm, ForfeitForm, PublishForm, RerunForm, tie_break_form
from app.prizes.records import chain_of, check, current_award, published_award
from app.prizes.services import eur, preview_state, prize_rules, winners_of
from app.security import public, roles
from app.teams.models import Team

bp = Blueprint("prizes", __name__, template_folder="templates")


bp.add_app_template_filter(eur, "prize_eur")  # euro cents as "EUR 250,000.00"


def _challenge(slug: str) -> Challenge:
    found = get_challenge(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _settings():
    return current_app.config["LAGC"]


def _forfeit_form(challenge: Challenge) -> ForfeitForm:
    form = ForfeitForm()
    teams = get_session().exec(
        select(Team).where(Team.challenge_id == challenge.id, Team.is_baseline.is_(False)).order_by(Team.name)
    )
    form.team_id.choices = team_choices(teams)
    return form


def _page(
    challenge: Challenge,
    status: int = 200,
    tie_form=None,
    forfeit_form=None,
    confirm_form=None,
    rerun_form=None,
    publish_form=None,
):
    """The organisers' award page in whatever state the award is."""
    session, now = get_session(), utcnow()
    rows = chain_of(session, challenge.id)
    award = current_award(rows)
    state = preview_state(session, challenge, _settings(), now) if award is None else None
    plan = workflow.rerun_preview(session, challenge, _settings()) if award is not None else None
    if tie_form is None and state is not None and state.preview is not None and state.preview.tied:
        tie_form = tie_break_form([(r.team_id, r.team) for r in state.preview.rows if r.status == "tied"])
    return render_template(
        "prizes/organise.html",
        challenge=challenge,
        rules=prize_rules(challenge),
        records=rows,
        chain=check(session, challenge),
        award=award,
        published=published_award(rows),
        state=state,
        plan=plan,
        winners=winners_of(session, challenge, award) if award else [],
        confirm_form=confirm_form or ConfirmForm(formdata=None),
        rerun_form=rerun_form or RerunForm(formdata=None),
        publish_form=publish_form or PublishForm(formdata=None),
        publish_blockers=workflow.publish_blockers(session, challenge),
        tie_form=tie_form,
        forfeit_form=forfeit_form or _forfeit_form(challenge),
    ), status


@bp.route("/organiser/c/<slug>/prizes")
@roles(Role.organiser)
def organise(slug: str):
    """Preview (or what is missing), confirm, tie-break, forfeit, re-run, publish, and the award history."""
    return _page(_challenge(slug))


def _act(slug: str, action, done: str):
    """Run a workflow act, commit and go back to the page; a refusal is flashed."""
    challenge, session = _challenge(slug), get_session()
    try:
        action(session, challenge)
    except workflow.PrizeError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("prizes.organise", slug=slug), 303)
    session.commit()
    flash(done, "success")
    return redirect(url_for("prizes.organise", slug=slug), 303)


@bp.route("/organiser/c/<slug>/prizes/confirm", methods=["POST"])
@roles(Role.organiser)
def confirm(slug: str):
    """Confirm the previewed award (its tick box ticked): a chained record, the winners' release obligations,
    an audit event."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(_challenge(slug), 422, confirm_form=form)
    return _act(
        slug,
        lambda s, c: workflow.confirm(s, c, _settings(), current_user, form.fingerprint.data, utcnow()),
        "The award is confirmed and recorded.",
    )


@bp.route("/organiser/c/<slug>/prizes/rerun", methods=["POST"])
@roles(Role.organiser)
def rerun(slug: str):
    """Re-run the award after a forfeit (its tick box ticked): the prize passes to the next eligible entry."""
    form = RerunForm()
    if not form.validate_on_submit():
        return _page(_challenge(slug), 422, rerun_form=form)
    return _act(
        slug,
        lambda s, c: workflow.rerun(s, c, _settings(), current_user, form.fingerprint.data, utcnow()),
        "The award is re-run and recorded.",
    )


@bp.route("/organiser/c/<slug>/prizes/publish", methods=["POST"])
@roles(Role.organiser)
def publish(slug: str):
    """Publish the award in force on the public winners page (its tick box ticked; judging published first)."""
    form = PublishForm()
    if not form.validate_on_submit():
        return _page(_challenge(slug), 422, publish_form=form)
    return _act(slug, lambda s, c: workflow.publish(s, c, current_user, utcnow()), "The winners page is public.")


@bp.route("/organiser/c/<slug>/prizes/forfeit", methods=["POST"])
@roles(Role.organiser)
def forfeit(slug: str):
    """Record that a team forfeits the prize, with a written reason."""
    challenge = _challenge(slug)
    form = _forfeit_form(challenge)
    if not form.validate_on_submit():
        return _page(challenge, 422, forfeit_form=form)
    return _act(
        slug,
        lambda s, c: workflow.record_forfeit(s, c, current_user, form.team_id.data, form.reason.data, utcnow()),
        "The forfeit is recorded; re-run the award to pass the prize on.",
    )


@bp.route("/organiser/c/<slug>/prizes/tie-break", methods=["POST"])
@roles(Role.organiser)
def tie_break(slug: str):
    """Record the organisers' order for the entries tied at the cut-off; the next preview uses it."""
    challenge, session = _challenge(slug), get_session()
    state = preview_state(session, challenge, _settings(), utcnow())
    if state.preview is None or not state.preview.tied:
        flash("There is no tie at the cut-off to decide.", "error")
        return redirect(url_for("prizes.organise", slug=slug), 303)
    form = tie_break_form([(r.team_id, r.team) for r in state.preview.rows if r.status == "tied"])
    if not form.validate_on_submit():
        return _page(challenge, 422, tie_form=form)
    return _act(
        slug,
        lambda s, c: workflow.decide_tie(s, c, current_user, form.order(), form.justification.data, utcnow()),
        "The tie-break decision is recorded.",
    )


@bp.route("/c/<slug>/winners")
@public
def winners(slug: str):
    """The published winners: amounts, GPU hours, release obligations. 404 before publication, except for
    organisers, who see what the page will show."""
    challenge, session = _challenge(slug), get_session()
    rows = chain_of(session, challenge.id)
    award = published_award(rows)
    organiser = current_user.is_authenticated and current_user.role == Role.organiser
    if award is None and organiser:
        award = current_award(rows)
    if award is not None:
        listed = winners_of(session, challenge, award)
    elif organiser:
        listed = _previewed_winners(challenge)
    else:
        abort(404)
    return render_template(
        "prizes/winners.html",
        challenge=challenge,
        award=award,
        winners=listed,
        draft=published_award(rows) is None,
        rules=prize_rules(challenge),
    )


def _previewed_winners(challenge: Challenge) -> list[dict]:
    """For organisers before the award: the winners the preview would name (none while inputs are missing)."""
    state = preview_state(get_session(), challenge, _settings(), utcnow())
    if state.preview is None or state.preview.refused:
        return []
    return [
        {
            "team": r.team,
            "rank": r.rank,
            "amount_cents": r.amount_cents,
            "gpu_hours": dict(r.gpu_hours),
            "obligation": "opens at the award",
            "deadline": None,
        }
        for r in state.preview.winners
    ]
