"""Evaluation pages: a team's evaluations (live, without reloading), the JSON they poll, and the organisers'
view of every evaluation per cluster with cancel and retry."""

from __future__ import annotations

from markupsafe import Markup
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import Session, select

from app.accounts.models import Role
from app.api.problems import status_of as refusal_status
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.checkpoints.models import Submission
from app.db import get_session
from app.security import roles, signed_in
from app.teams.models import Team, TeamMembership
from app.teams.services import team_of
from evaluation import reproduction, services
from evaluation.models import Evaluation, EvaluationState, Reproduction, Site
from evaluation.status import status_of

bp = Blueprint(
    "evaluation", __name__, template_folder="templates", static_folder="static", static_url_path="/static/evaluation"
)

STATE_BADGES = {
    "queued": "upcoming",
    "dispatching": "upcoming",
    "dispatched": "upcoming",
    "running": "upcoming",
    "finished": "open",
    "failed": "closed",
    "cancelled": "closed",
}


@bp.app_template_global()
def evaluation_badge(state: str) -> str:
    """The badge class of a state."""
    return STATE_BADGES.get(state, "")


def visible_evaluation(session: Session, user, evaluation_id: int) -> Evaluation:
    """The evaluation if the user is an organiser or belongs to its team; 404 otherwise (never 403)."""
    ev = session.get(Evaluation, evaluation_id)
    if ev is None:
        abort(404)
    if Role(user.role) is Role.organiser:
        return ev
    member = session.exec(
        select(TeamMembership.id).where(TeamMembership.team_id == ev.team_id, TeamMembership.user_id == user.id)
    ).first()
    if member is None:
        abort(404)
    return ev


def _card(session: Session, ev: Evaluation, organiser: bool) -> tuple[dict, str]:
    status = status_of(session, ev, organiser)
    submission = session.get(Submission, ev.submission_id)
    # Markup: our own template's output, already escaped inside; the page embeds it as HTML.
    html = Markup(render_template("evaluation/_card.html", s=status, submission=submission))
    return status, html


@bp.route("/c/<slug>/evaluations")
@signed_in
def team_page(slug: str):
    """The signed-in entrant's team's evaluations, newest first; the page updates itself while they run."""
    session = get_session()
    challenge = get_challenge(session, slug) or abort(404)
    if Role(current_user.role) is Role.organiser:
        return redirect(url_for("evaluation.organiser_page", challenge=challenge.slug))
    team = team_of(session, current_user, challenge.id) or abort(404)
    evaluations = session.exec(
        select(Evaluation).where(Evaluation.team_id == team.id).order_by(Evaluation.id.desc())
    ).all()
    cards = [_card(session, ev, organiser=False) for ev in evaluations]
    return render_template("evaluation/team.html", challenge=challenge, team=team, cards=cards)


@bp.route("/evaluations/<int:evaluation_id>/status.json")
@signed_in
def status_json(evaluation_id: int):
    """Where one evaluation stands, with its card's HTML for the live page (team members and organisers)."""
    session = get_session()
    ev = visible_evaluation(session, current_user, evaluation_id)
    status, html = _card(session, ev, organiser=Role(current_user.role) is Role.organiser)
    response = jsonify({**status, "html": html})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organiser/evaluations")
@roles(Role.organiser)
def organiser_page():
    """Every open and recent evaluation, grouped by cluster, with cancel and retry."""
    session = get_session()
    query = select(Evaluation).order_by(Evaluation.id.desc()).limit(500)
    slug = request.args.get("challenge")
    challenge = get_challenge(session, slug) if slug else None
    if challenge is not None:
        query = query.where(Evaluation.challenge_id == challenge.id)
    by_cluster: dict[str, list[dict]] = {}
    teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    evaluations = session.exec(query).all()
    ids = [ev.id for ev in evaluations]
    links = session.exec(select(Reproduction).where(Reproduction.evaluation_id.in_(ids))).all() if ids else []
    reproduces = {link.evaluation_id: link.original_id for link in links}
    for ev in evaluations:
        by_cluster.setdefault(ev.cluster, []).append(
            status_of(session, ev, organiser=True)
            | {
                "team": teams.get(ev.team_id, ev.team_id),
                "challenge_id": ev.challenge_id,
                "reproduces": reproduces.get(ev.id),
            }
        )
    challenges = {c.id: c for c in session.exec(select(Challenge)).all()}
    return render_template(
        "evaluation/organiser.html", by_cluster=by_cluster, challenge=challenge, challenges=challenges
    )


@bp.route("/organiser/evaluations/<int:evaluation_id>/reproduction")
@roles(Role.organiser)
def reproduction_page(evaluation_id: int):
    """An evaluation's reproductions at other sites, the comparison task by task, and the resolutions."""
    session = get_session()
    ev = session.get(Evaluation, evaluation_id) or abort(404)
    return _reproduction(session, ev)


def _reproduction(
    session: Session, ev: Evaluation, status: int = 200, error: str | None = None, justification: str = ""
):
    sites = session.exec(select(Site).where(Site.revoked_at.is_(None)).order_by(Site.name)).all()
    return render_template(
        "evaluation/reproduction.html",
        ev=ev,
        r=reproduction.summary(session, ev),
        ordered=reproduction.reproductions_of(session, ev.id),
        sites=sites,
        team=session.get(Team, ev.team_id),
        error=error,
        justification=justification,
    ), status


@bp.route("/organiser/evaluations/<int:evaluation_id>/reproduce", methods=["POST"])
@roles(Role.organiser)
def reproduce(evaluation_id: int):
    """Order a re-evaluation at another site (any, or the one chosen)."""
    session = get_session()
    ev = session.get(Evaluation, evaluation_id) or abort(404)
    site = (request.form.get("site") or "").strip() or None
    try:
        copy = reproduction.order(session, ev, current_user.id, site=site)
    except reproduction.ReproductionError as exc:
        session.rollback()
        return _reproduction(session, ev, refusal_status(exc), exc.message)
    session.commit()
    flash(
        f"Evaluation {ev.id} will be reproduced {('at ' + site) if site else 'at another site'} "
        f"(evaluation {copy.id}).",
        "success",
    )
    return redirect(url_for("evaluation.reproduction_page", evaluation_id=ev.id))


@bp.route("/organiser/evaluations/<int:evaluation_id>/reproduction/resolve", methods=["POST"])
@roles(Role.organiser)
def resolve_reproduction(evaluation_id: int):
    """Accept the evaluation for the award despite a discrepancy or a missing reproduction, with the reason."""
    session = get_session()
    ev = session.get(Evaluation, evaluation_id) or abort(404)
    justification = request.form.get("justification") or ""
    try:
        reproduction.resolve(session, ev, current_user.id, justification)
    except reproduction.ReproductionError as exc:
        session.rollback()
        return _reproduction(
            session, ev, refusal_status(exc), exc.message, justification[: reproduction.JUSTIFICATION_MAX]
        )
    session.commit()
    flash(f"Resolved: evaluation {ev.id} may count for the award; the justification is recorded.", "success")
    return redirect(url_for("evaluation.reproduction_page", evaluation_id=ev.id))


@bp.route("/organiser/evaluations/<int:evaluation_id>/cancel", methods=["POST"])
@roles(Role.organiser)
def cancel(evaluation_id: int):
    session = get_session()
    ev = session.get(Evaluation, evaluation_id) or abort(404)
    try:
        services.request_cancel(session, ev, current_user.id)
    except services.EvaluationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("evaluation.organiser_page"))
    session.commit()
    done = ev.state == EvaluationState.cancelled
    flash(f"Evaluation {ev.id} {'cancelled' if done else 'will be cancelled within seconds'}.", "success")
    return redirect(url_for("evaluation.organiser_page"))


@bp.route("/organiser/evaluations/<int:evaluation_id>/retry", methods=["POST"])
@roles(Role.organiser)
def retry(evaluation_id: int):
    session = get_session()
    ev = session.get(Evaluation, evaluation_id) or abort(404)
    try:
        services.organiser_retry(session, ev, current_user.id)
    except services.EvaluationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("evaluation.organiser_page"))
    session.commit()
    flash(f"Evaluation {ev.id} is queued again (attempt {ev.attempt}).", "success")
    return redirect(url_for("evaluation.organiser_page"))
