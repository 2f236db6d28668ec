"""Command-line entry points: `flask --app app db|users|challenges|demo ...`, plus each feature's group."""

from __future__ import annotations

import json
import secrets
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.accounts.models import Role
from app.db import session_scope

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
users_cli = AppGroup("users", help="Accounts.")
challenges_cli = AppGroup("challenges", help="Challenge configuration files.")
demo_cli = AppGroup("demo", help="The demo challenge.")


def _settings():
    return current_app.config["LAGC"]


def _engine():
    return current_app.extensions["lagc_engine"]


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the migrations (the Procfile's release step)."""
    from app.migrate import upgrade

    upgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models and the migrations have drifted apart."""
    from app.migrate import check

    check(_settings().database_url)
    click.echo("models and migrations agree")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", default="", help="Display name (defaults to the e-mail).")
@click.option("--password", default=None, help="Leave out to generate one, printed once.")
def users_create(email: str, role: str, display_name: str, password: str | None) -> None:
    """Create an account from the command line."""
    from app.accounts.services import AccountError, create_user

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with session_scope(_engine()) as session:
            user = create_user(session, email, password, display_name or email, Role(role))
            user_id = user.id
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} #{user_id} {email}" + (f" with password {password}" if generated else ""))


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def users_token(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it once as {"token": ...}: stored hashed and audited like a
    token made on the API tokens page."""
    from app.accounts.services import AccountError, find_user, issue_token

    with session_scope(_engine()) as session:
        user = find_user(session, email)
        if user is None:
            raise click.ClickException(f"There is no account for {email}.")
        if not user.is_active:
            raise click.ClickException(f"The account {email} is disabled; it gets no token.")
        try:
            _, plain = issue_token(session, user, name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"token": plain}))


@challenges_cli.command("load")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def challenges_load(files: tuple[str, ...]) -> None:
    """Load (or update) challenges from configuration files; without FILES, the configured ones."""
    from app.challenges.config import ConfigError
    from app.challenges.services import load_config_file

    paths = files or _settings().challenge_files
    for path in paths:
        try:
            with session_scope(_engine()) as session:
                challenge = load_config_file(session, path)
                click.echo(f"loaded {challenge.slug} from {path}")
        except ConfigError as exc:
            click.echo(json.dumps({"file": str(path), "problems": exc.problems}, indent=2), err=True)
            sys.exit(2)


@challenges_cli.command("export")
@click.argument("slug")
def challenges_export(slug: str) -> None:
    """Print a challenge's configuration as TOML, byte for byte the text it was loaded from (its config_sha256
    is over those bytes), so `challenges load` takes it back unchanged."""
    from app.challenges.services import get_challenge

    with session_scope(_engine()) as session:
        challenge = get_challenge(session, slug)
        text = challenge.config_text if challenge is not None else None
    if text is None:
        raise click.ClickException(f"no challenge {slug!r}")
    click.echo(text.encode("utf-8"), nl=False)  # bytes: UTF-8 whatever the locale, and no newline added


@demo_cli.command("load")
def demo_load() -> None:
    """Create the demo challenge and accounts (idempotent) and print how to sign in."""
    from app.demo import load_demo

    if _settings().production:
        raise click.ClickException("The demo is not loaded in production.")
    with session_scope(_engine()) as session:
        accounts = load_demo(session, _settings())
    click.echo("Demo accounts (password for all: see below):")
    for email, role, password in accounts:
        click.echo(f"  {role:<10} {email:<32} {password}")
    from app.accounts.totp import demo_secret

    for email, role, _ in accounts:
        if role in ("organiser", "judge"):
            click.echo(f"  TOTP secret of {email:<24} {demo_secret(email)} (any authenticator app)")


@demo_cli.command("seed")
@click.option("--teams", type=click.IntRange(1, 200_000), default=1000, show_default=True)
@click.option("--seed", "rng_seed", type=int, default=0, show_default=True, help="Random seed (deterministic).")
def demo_seed(teams: int, rng_seed: int) -> None:
    """Fill the `synthetic` challenge with TEAMS synthetic teams evaluated on 20 tasks (replaces earlier ones)."""
    import time

    from app.db import analyse, utcnow
    from leaderboard.seed import seed

    if _settings().production:
        raise click.ClickException("Synthetic data is not seeded in production.")
    started = time.perf_counter()
    with session_scope(_engine()) as session:
        challenge = seed(session, teams, rng_seed=rng_seed, now=utcnow())
        slug = challenge.slug
    analyse(_engine())
    click.echo(f"seeded {teams} teams x 20 tasks into {slug!r} in {time.perf_counter() - started:.1f} s")


def register(app: Flask) -> None:
    """Add the core command groups and every feature's `cli` group to the app's CLI."""
    from app import features

    for group in (db_cli, users_cli, challenges_cli, demo_cli):
        app.cli.add_command(group)
    for module in features.cli():
        app.cli.add_command(module.cli)
