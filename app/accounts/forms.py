"""Account forms; Flask-WTF adds a CSRF token to each."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.accounts.models import Role


class SignUpForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField("Repeat the password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")])


class SignInForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class InvitationForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=[(Role.judge.value, "Judge"), (Role.organiser.value, "Organiser")])


class AcceptInvitationForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired(), Length(min=10, max=200)])


class TokenForm(FlaskForm):
    name = StringField("What the token is for", validators=[DataRequired(), Length(max=80)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something (sign out, revoke)."""


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or (at sign-in) a one-time recovery code."""

    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
