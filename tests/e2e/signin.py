"""Signing in through the running platform's pages, in Chromium: the password, then (organisers and judges) the
current code of the demo authenticator secret."""

from __future__ import annotations

import os

DEMO_PASSWORD = "demo-password-2026"
# The running platform's database URL, set by the `server` fixture, so `totp_code` can make the platform forget
# the last code step used.
SERVER_DATABASE_ENV = "LAGC_E2E_SERVER_DATABASE_URL"


def totp_code(email: str) -> str:
    """The current authenticator code of a demo organiser or judge (their secret derives from the e-mail, as
    `flask demo load` prints it). The running platform first forgets the last step used, so tests may sign the
    same person in several times within one 30-second window."""
    from app.accounts.totp import code_at, demo_secret, step_at
    from app.db import utcnow

    if os.environ.get(SERVER_DATABASE_ENV):
        _forget_last_code(os.environ[SERVER_DATABASE_ENV], email)
    return code_at(demo_secret(email), step_at(utcnow()))


def _forget_last_code(database_url: str, email: str) -> None:
    import app.models  # noqa: F401  (every table, so the foreign keys resolve)
    from app.accounts.services import find_user
    from app.accounts.twofactor import credential_of
    from app.db import make_engine, session_scope

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        user = find_user(session, email)
        credential = credential_of(session, user.id) if user is not None else None
        if credential is not None:
            credential.last_used_step = None
            session.add(credential)
    engine.dispose()


def sign_in(page, server: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the pages: the password, then (organisers and judges) the authenticator code."""
    page.goto(server + "/signin")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    complete_second_step(page, email)


def complete_second_step(page, email: str) -> None:
    """On the code page after the password step, type the current code of the demo secret; else nothing."""
    if page.url.split("?")[0].endswith("/signin/code"):
        page.get_by_label("Code").fill(totp_code(email))
        page.get_by_role("button", name="Sign in").click()


def e_mailed_link(email: str, seconds: float = 30.0) -> str:
    """The path of the sign-up link the running platform's scheduler e-mailed to `email` (read from the
    notification it wrote, as the mail server would receive it)."""
    import re
    import time

    import app.models  # noqa: F401
    from sqlmodel import select

    from app.db import make_engine, session_scope
    from app.notifications.models import Notification

    engine, deadline = make_engine(os.environ[SERVER_DATABASE_ENV]), time.monotonic() + seconds
    try:
        while True:
            with session_scope(engine) as session:
                found = session.exec(
                    select(Notification.body).where(Notification.address == email).order_by(Notification.id.desc())
                ).first()
            if found is not None:
                return "/" + re.search(r"https?://\S+?/(signup/confirm/\S+)", found).group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no sign-up e-mail to {email} within {seconds} s")
            time.sleep(0.3)
    finally:
        engine.dispose()


def sign_up(page, server: str, email: str, password: str, name: str) -> None:
    """Sign up through the pages and follow the e-mailed link: the account exists and is signed in."""
    page.goto(server + "/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password (at least 10 characters)").fill(password)
    page.get_by_label("Repeat the password").fill(password)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.goto(server + e_mailed_link(email))
    page.get_by_role("button", name="Create my account").click()
