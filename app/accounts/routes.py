"""Sign-up, sign-in (password, then a code for people with an authenticator), sign-out, two-factor
enrolment, invitations and API tokens."""

from __future__ import annotations

import time
from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, login_user, logout_user
from sqlmodel import select

from app.accounts import services, signin, signup, totp, twofactor
from app.accounts.forms import (
    AcceptInvitationForm,
    CodeForm,
    EmptyForm,
    InvitationForm,
    SignInForm,
    SignUpForm,
    TokenForm,
)
from app.accounts.models import ApiToken, Invitation, Role, User
from app.audit.services import record
from app.db import get_session
from app.security import public, roles, signed_in
from app.security.ratelimit import SIGN_IN_PER_ADDRESS, SIGN_UP_PER_ADDRESS, SIGN_UP_PER_EMAIL, Rule, check, limited

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
    """The same answer for every address (`app.accounts.signup`): the account is created from the e-mailed link."""
    form = SignUpForm()
    if form.validate_on_submit():
        check(SIGN_UP_PER_EMAIL, signin.account_digest(form.email.data))
        session = get_session()
        try:
            request_row = signup.request_sign_up(session, form.email.data, form.password.data, form.display_name.data)
            session.commit()
        except services.AccountError as exc:
            session.rollback()
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            return render_template("accounts/sign_up_sent.html", email=request_row.email, hours=signup.REQUEST_HOURS)
    return render_template("accounts/sign_up.html", form=form), 422 if form.errors else 200


def _sign_up_request(token: str):
    request_row = signup.open_request(get_session(), current_app.config["SECRET_KEY"], token)
    if request_row is None:
        abort(404, "This link is unknown, used or expired. Sign up again to get a new one.")
    return request_row


@bp.route("/signup/confirm/<token>")
@public
def confirm_sign_up(token: str):
    """The e-mailed link: a button that creates the account (following a link never changes anything)."""
    request_row = _sign_up_request(token)
    if services.find_user(get_session(), request_row.email) is not None:
        abort(404, "This address already has an account: sign in instead.")
    return render_template("accounts/sign_up_confirm.html", request_row=request_row, form=EmptyForm())


@bp.route("/signup/confirm/<token>", methods=["POST"])
@public
@limited(SIGN_UP_PER_ADDRESS)
def complete_sign_up(token: str):
    """Create the account from a confirmed request and sign its owner in."""
    request_row, session = _sign_up_request(token), get_session()
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        user = signup.complete_sign_up(session, request_row)
        session.commit()
    except services.AccountError as exc:
        session.rollback()
        abort(404, str(exc))
    login_user(user)
    flash("Welcome! Your address is confirmed. Register your team to take part.", "success")
    return redirect(url_for("web.dashboard"))


@bp.route("/signin", methods=["GET", "POST"])
@public
@limited(SIGN_IN_PER_ADDRESS)
def sign_in():
    """Password step. Wrong passwords are limited per account and client (`app.accounts.signin`)."""
    form, status, refused = SignInForm(), 200, None
    if form.validate_on_submit():
        attempt = signin.attempt_for(form.email.data)
        refused = signin.refusal(attempt)
        if refused is None:
            session = get_session()
            user = services.authenticate(session, form.email.data, form.password.data)
            if user is not None:
                session.commit()
                response = _after_password(session, user, _safe_next(request.args.get("next")))
                return signin.remember_browser(response, attempt)
            signin.wrong_password(attempt)
            form.password.errors.append("The e-mail or the password is wrong.")
            status = 401
    elif form.errors:
        status = 422
    page = render_template("accounts/sign_in.html", form=form, refused=refused and refused[1], rule=signin.rule_words())
    if refused is not None:
        return page, 429, {"Retry-After": str(refused[0])}
    return page, status


PENDING_KEY = "second_factor_pending"
PENDING_SECONDS = 300  # the code must follow the password within five minutes
SIGN_IN_CODE_PER_ACCOUNT = Rule("sign-in-code:account", 10, 900)


def _after_password(session, user, target: str):
    """The password was right: ask for the code when the person has an authenticator, else sign in
    (organisers and judges without one are then held on the enrolment page by app.security)."""
    if twofactor.is_enrolled(session, user.id):
        flask_session[PENDING_KEY] = {"user_id": user.id, "next": target, "at": time.time()}
        return redirect(url_for("accounts.sign_in_code"))
    login_user(user)
    if twofactor.requires_second_factor(user):
        return redirect(url_for("accounts.two_factor"))
    return redirect(target)


def _pending_user(session):
    """The person who passed the password step in this browser within the last five minutes, or None."""
    pending = flask_session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        flask_session.pop(PENDING_KEY, None)
        return None
    user = session.get(User, pending.get("user_id"))
    return user if user is not None and user.is_active else None


@bp.route("/signin/code", methods=["GET", "POST"])
@public
def sign_in_code():
    session = get_session()
    user = _pending_user(session)
    if user is None:
        flash("Sign in with your e-mail and password first.", "info")
        return redirect(url_for("accounts.sign_in"))
    form, status = CodeForm(), 200
    if form.validate_on_submit():
        check(SIGN_IN_CODE_PER_ACCOUNT, str(user.id))
        how = twofactor.verify_second_factor(session, user, form.code.data, current_app.config["SECRET_KEY"])
        if how is not None:
            session.commit()
            target = flask_session.pop(PENDING_KEY)["next"]
            login_user(user)
            if how == "recovery":
                flash(f"You used a recovery code; {twofactor.recovery_codes_left(session, user.id)} are left.", "info")
            return redirect(_safe_next(target))
        form.code.errors.append("This code is wrong, expired or already used.")
        status = 401
    elif form.errors:
        status = 422
    return render_template("accounts/sign_in_code.html", form=form), status


@bp.route("/account/2fa", methods=["GET", "POST"])
@signed_in
def two_factor():
    session, key = get_session(), current_app.config["SECRET_KEY"]
    if twofactor.is_enrolled(session, current_user.id):
        return render_template(
            "accounts/two_factor_enabled.html",
            form=CodeForm(),
            credential=twofactor.credential_of(session, current_user.id),
            left=twofactor.recovery_codes_left(session, current_user.id),
        )
    form, status = CodeForm(), 200
    if form.validate_on_submit():
        codes = twofactor.confirm_enrolment(session, current_user, form.code.data, key)
        if codes is not None:
            session.commit()
            return render_template("accounts/two_factor_codes.html", codes=codes)
        form.code.errors.append("This code does not match: check the clock of your phone and try again.")
        status = 422
    secret = twofactor.pending_secret(session, current_user, key) if form.errors else None
    secret = secret or twofactor.start_enrolment(session, current_user, key)  # a new secret, shown once
    session.commit()
    return render_template(
        "accounts/two_factor_enrol.html",
        form=form,
        secret=secret,
        uri=totp.provisioning_uri(secret, current_user.email),
        required=twofactor.requires_second_factor(current_user),
    ), status


@bp.route("/account/2fa/recovery-codes", methods=["POST"])
@signed_in
def new_recovery_codes():
    session = get_session()
    form = CodeForm()
    if form.validate_on_submit():
        check(SIGN_IN_CODE_PER_ACCOUNT, str(current_user.id))
        how = twofactor.verify_second_factor(session, current_user, form.code.data, current_app.config["SECRET_KEY"])
        if how == "totp":
            codes = twofactor.replace_recovery_codes(session, current_user)
            record(session, "account.recovery_codes_replaced", "user", current_user.id, actor_id=current_user.id)
            session.commit()
            return render_template("accounts/two_factor_codes.html", codes=codes)
    session.rollback()  # a recovery code typed here is not spent
    flash("New recovery codes need a current code from your authenticator app.", "error")
    return redirect(url_for("accounts.two_factor"))


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
    pending = session.exec(
        select(Invitation).where(Invitation.accepted_at.is_(None)).order_by(Invitation.created_at.desc())
    ).all()
    return render_template(
        "accounts/invitations.html", form=form, link=link, pending=pending
    ), 422 if form.errors else 200


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
            getattr(form, exc.field or "password").errors.append(str(exc))
        else:
            login_user(user)
            return redirect(url_for("web.dashboard"))
    return render_template(
        "accounts/accept_invitation.html", form=form, invitation=invitation
    ), 422 if form.errors else 200


@bp.route("/account/tokens", methods=["GET", "POST"])
@signed_in
def tokens():
    form, plain = TokenForm(), None
    session = get_session()
    if form.validate_on_submit():
        try:
            _, plain = services.issue_token(session, current_user, form.name.data)
            session.commit()
        except services.AccountError as exc:
            session.rollback()
            form.name.errors.append(str(exc))
    mine = session.exec(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template(
        "accounts/tokens.html", form=form, plain=plain, tokens=mine, revoke_form=EmptyForm()
    ), 422 if form.errors else 200


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
