"""`flask checkpoint submit-baseline`: an organisers' reference model, registered as a baseline team (once)
and submitted through the same intake as an upload. Baselines are the organiser feature's; the command keeps
its place in the `checkpoint` group, beside the other checkpoint commands."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from sqlmodel import select

from app.accounts.models import Role
from app.accounts.services import find_user
from app.challenges.services import get_challenge
from app.checkpoints.cli import cli
from app.checkpoints.intake import submit_folder
from app.checkpoints.services import IntakeError, submission_json
from app.db import session_scope
from app.organiser.services import register_baseline
from app.teams.models import Team


@cli.command("submit-baseline")
@click.option("--challenge", "slug", required=True, help="The challenge's slug.")
@click.option(
    "--model", required=True, help='The baseline\'s name, e.g. "EuroLLM-9B"; the team is "Baseline: <model>".'
)
@click.option("--organiser", "email", required=True, help="The organiser submitting it (recorded as the actor).")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def submit_baseline_command(slug: str, model: str, email: str, directory: Path) -> None:
    """Register a baseline model (once) and submit DIRECTORY for it through the same intake as an upload;
    the scheduler then evaluates it like an entry. Prints the submission as JSON."""
    settings = current_app.config["LAGC"]
    with session_scope(current_app.extensions["lagc_engine"]) as session:
        challenge, organiser = get_challenge(session, slug), find_user(session, email)
        if challenge is None:
            raise click.ClickException(f"There is no challenge {slug!r}.")
        if organiser is None or Role(organiser.role) is not Role.organiser:
            raise click.ClickException(f"{email} is not an organiser's account.")
        team = session.exec(
            select(Team).where(
                Team.challenge_id == challenge.id,
                Team.is_baseline == True,  # noqa: E712
                Team.name == f"Baseline: {model.strip()}",
            )
        ).first()
        try:
            team = team or register_baseline(session, challenge, model, organiser.id)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            submission = submit_folder(session, settings, organiser, challenge, model, directory, baseline=team)
        except IntakeError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(json.dumps(submission_json(submission), indent=2, default=str))
        if submission.status.value != "accepted":
            raise SystemExit(1)
