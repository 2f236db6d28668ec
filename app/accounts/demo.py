"""Demo accounts: who they are (created by `app.demo.load_demo`, with the entrants' teams), and the demo
organiser's and judges' authenticator secrets, derived from their e-mail and printed with the accounts by
`flask demo load`, so anyone can add them to an authenticator app. Idempotent."""

from __future__ import annotations

from sqlmodel import Session, select

from app.accounts import totp, twofactor
from app.accounts.models import Role, User
from app.settings import Settings

DEMO_DOMAIN = "@demo.lagc.eu"
DEMO_PASSWORD = "demo-password-2026"
DEMO_ACCOUNTS = (
    ("organiser@demo.lagc.eu", "Olga Organiser", Role.organiser, None),
    ("judge@demo.lagc.eu", "Jonas Judge", Role.judge, None),
    ("judge2@demo.lagc.eu", "Joana Judge", Role.judge, None),
    ("aurora@demo.lagc.eu", "Aino (Aurora Labs)", Role.entrant, "Aurora Labs (FI)"),
    ("baltic@demo.lagc.eu", "Baiba (Baltic Tensor)", Role.entrant, "Baltic Tensor (LV)"),
    ("iberia@demo.lagc.eu", "Inês (Iberia NLP)", Role.entrant, "Iberia NLP (PT)"),
)


def extend_demo(session: Session, settings: Settings, challenge) -> None:
    """Enrol every demo organiser and judge without a second factor with their deterministic demo secret."""
    for user in session.exec(select(User).where(User.email.endswith(DEMO_DOMAIN))).all():
        if twofactor.requires_second_factor(user) and not twofactor.is_enrolled(session, user.id):
            twofactor.enrol_with_secret(session, user, totp.demo_secret(user.email), settings.secret_key)
