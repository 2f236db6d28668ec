"""The demo challenge: the bundled challenge files, a demo challenge whose phases run around today, and
demo accounts, so a newcomer sees a working challenge within minutes. Idempotent."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.services import create_user, find_user
from app.challenges.services import get_challenge, load_config_file, load_config_text
from app.db import utcnow
from app.features import feature_modules
from app.settings import BUNDLED_CHALLENGES, Settings
from app.teams.services import register_team, team_of

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-password-2026"
DEMO_ACCOUNTS = (
    ("organiser@demo.lagc.eu", "Olga Organiser", Role.organiser, None),
    ("judge@demo.lagc.eu", "Jonas Judge", Role.judge, None),
    ("judge2@demo.lagc.eu", "Joana Judge", Role.judge, None),
    ("aurora@demo.lagc.eu", "Aino (Aurora Labs)", Role.entrant, "Aurora Labs (FI)"),
    ("baltic@demo.lagc.eu", "Baiba (Baltic Tensor)", Role.entrant, "Baltic Tensor (LV)"),
    ("iberia@demo.lagc.eu", "Inês (Iberia NLP)", Role.entrant, "Iberia NLP (PT)"),
)


def demo_config_text(today: datetime) -> str:
    """The 2024 rules with the phases moved around `today`: registration is open, submission opens in a week."""
    base = (BUNDLED_CHALLENGES / "lagc-2024.toml").read_text(encoding="utf-8")
    head, _, rest = base.partition("[[phases]]")
    prize = "[prize]" + rest.split("[prize]", 1)[1]
    head = head.replace('slug = "lagc-2024"', f'slug = "{DEMO_SLUG}"').replace(
        'name = "Large AI Grand Challenge 2024"', 'name = "Demo Grand Challenge"')
    start = today.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=14)
    spans = (("registration", "Registration and eligibility", 0, 21), ("submission", "Checkpoint submission", 21, 44),
             ("evaluation", "Evaluation", 44, 58), ("judging", "Judging", 58, 72), ("award", "Award and release", 72, 437))
    phases = "".join(
        f'[[phases]]\nkey = "{key}"\nname = "{name}"\nstarts = {_iso(start + timedelta(days=a))}\n'
        f'ends = {_iso(start + timedelta(days=b))}\n\n' for key, name, a, b in spans)
    return head + phases + prize


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def load_demo(session: Session, settings: Settings, today: datetime | None = None) -> list[tuple[str, str, str]]:
    """Load challenges and demo accounts; returns (e-mail, role, password) for each demo account."""
    for path in settings.challenge_files:
        load_config_file(session, path)
    if get_challenge(session, DEMO_SLUG) is None:
        load_config_text(session, demo_config_text(today or utcnow()))
    demo = get_challenge(session, DEMO_SLUG)
    for email, name, role, team in DEMO_ACCOUNTS:
        user = find_user(session, email) or create_user(session, email, DEMO_PASSWORD, name, role)
        if team and team_of(session, user, demo.id) is None:
            register_team(session, user, demo, team)
    session.flush()
    for module in feature_modules("demo"):
        module.extend_demo(session, settings, demo)
        session.flush()
    return [(email, role.value, DEMO_PASSWORD) for email, _, role, _ in DEMO_ACCOUNTS]
