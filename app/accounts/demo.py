"""Demo accounts: the demo organiser and judges get authenticator secrets derived from their e-mail, printed
with the accounts by `flask demo load`, so anyone can add them to an authenticator app. Idempotent."""
from __future__ import annotations

from sqlmodel import Session, select

from app.accounts import totp, twofactor
from app.accounts.models import User
from app.settings import Settings

DEMO_DOMAIN = "@demo.lagc.eu"


def extend_demo(session: Session, settings: Settings, challenge) -> None:
    """Enrol every demo organiser and judge without a second factor with their deterministic demo secret."""
    for user in session.exec(select(User).where(User.email.endswith(DEMO_DOMAIN))).all():
        if twofactor.requires_second_factor(user) and not twofactor.is_enrolled(session, user.id):
            twofactor.enrol_with_secret(session, user, totp.demo_secret(user.email), settings.secret_key)
