"""Sign-up, sign-in, sign-out, invitations and API tokens."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlmodel import select

from app.accounts import services
from app.accounts.forms import (AcceptInvitationForm, EmptyForm, InvitationForm, SignInForm, SignUpForm,
                                TokenForm)
from app.accounts.models import ApiToken, Invitation, Role
from app.db import get_session
from app.ops.ratelimit import SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_ADDRESS, SIGN_UP_PER_ADDRESS, check, limited
from app.security import public, roles, signed_in

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("web.dashboard")


@bp.route("/signup", methods=["GET", "POST"])
@public
@limited(SIGN_UP_PER_ADDRESS)
def sign_up():
    form = SignUpForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            user = services.create_user(session, form.email.data, form.password.data, form.display_name.data,
                                        Role.entrant)
            session.commit()
        except services.AccountError as exc:
            session.rollback()
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            login_user(user)
            flash("Welcome! Register your team to take part.", "success")
            return redirect(url_for("web.dashboard"))
    return render_template("accounts/sign_up.html", form=form), 422 if form.errors else 200


@bp.route("/signin", methods=["GET", "POST"])
@public
@limited(SIGN_IN_PER_ADDRESS)
def sign_in():
    form, status = SignInForm(), 200
    if form.validate_on_submit():
        check(SIGN_IN_PER_ACCOUNT, services.normalise_email(form.email.data))
        session = get_session()
        user = services.authenticate(session, form.email.data, form.password.data)
        if user is not None:
            session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("The e-mail or the password is wrong.")
        status = 401
    elif form.errors:
        status = 422
    return render_template("accounts/sign_in.html", form=form), status


@bp.route("/signout", methods=["POST"])
@public
def sign_out():
    if EmptyForm().validate_on_submit():
        logout_user()
    return redirect(url_for("web.home"))


@bp.route("/invitations", methods=["GET", "POST"])
@roles(Role.organiser)
def invitations():
    form, link = InvitationForm(), None
    session = get_session()
    if form.validate_on_submit():
        try:
            _, plain = services.invite(session, current_user, form.email.data, Role(form.role.data))
            session.commit()
            link = url_for("accounts.accept_invitation", token=plain, _external=True)
        except services.AccountError as exc:
            session.rollback()
            getattr(form, exc.field or "email").errors.append(str(exc))
    pending = session.exec(select(Invitation).where(Invitation.accepted_at.is_(None))
                           .order_by(Invitation.created_at.desc())).all()
    return render_template("accounts/invitations.html", form=form, link=link, pending=pending), \
        422 if form.errors else 200


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    session = get_session()
    invitation = services.open_invitation(session, token)
    if invitation is None:
        abort(404, "This invitation is unknown, used or expired. Ask the organisers for a new one.")
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(session, invitation, form.password.data, form.display_name.data)
            session.commit()
        except services.AccountError as exc:
            session.rollback()
            form.password.errors.append(str(exc))
        else:
            login_user(user)
            return redirect(url_for("web.dashboard"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation), \
        422 if form.errors else 200


@bp.route("/account/tokens", methods=["GET", "POST"])
@signed_in
def tokens():
    form, plain = TokenForm(), None
    session = get_session()
    if form.validate_on_submit():
        _, plain = services.issue_token(session, current_user, form.name.data)
        session.commit()
    mine = session.exec(select(ApiToken).where(ApiToken.user_id == current_user.id)
                        .order_by(ApiToken.created_at.desc())).all()
    return render_template("accounts/tokens.html", form=form, plain=plain, tokens=mine,
                           revoke_form=EmptyForm()), 422 if form.errors else 200


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_token(token_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = get_session()
    try:
        services.revoke_token(session, current_user, token_id)
    except services.AccountError:
        abort(404)
    session.commit()
    flash("The token is revoked.", "success")
    return redirect(url_for("accounts.tokens"))
