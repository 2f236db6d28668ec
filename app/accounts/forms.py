"""Account forms; Flask-WTF adds a CSRF token to each."""

from app.forms import WebForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.accounts.models import Role


class SignUpForm(WebForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class SignInForm(WebForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class InvitationForm(WebForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=[(Role.judge.value, "Judge"), (Role.organiser.value, "Organiser")])


class AcceptInvitationForm(WebForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired(), Length(min=10, max=200)])


class TokenForm(WebForm):
    name = StringField("What the token is for", validators=[DataRequired(), Length(max=80)])


class EmptyForm(WebForm):
    """A form with only the CSRF token, for buttons that change something (sign out, revoke)."""


class CodeForm(WebForm):
    """A six-digit code from the authenticator app, or (at sign-in) a one-time recovery code."""

    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
