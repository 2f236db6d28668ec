"""`flask licence check DIR`: print the licence verdict of a checkpoint folder as JSON."""

import json

import click
from flask.cli import AppGroup

from app.licences.policy import LicencePolicy
from app.licences.verify import check_licence_dir

cli = AppGroup("licence", help="Verify the licences of checkpoints.")


@cli.command("check")
@click.argument("directory", type=click.Path(path_type=str))
def check(directory: str) -> None:
    """Print the licence verdict of the checkpoint in DIRECTORY (the 2024 challenge's policy)."""
    verdict = check_licence_dir(directory, LicencePolicy.default())
    click.echo(json.dumps(verdict.to_dict(), indent=2))
