"""`flask licence check DIR [--challenge SLUG]`: print the licence verdict of a checkpoint folder as JSON."""

import json

import click
from flask.cli import AppGroup, ScriptInfo

from app.licences.policy import LicencePolicy
from app.licences.verify import check_licence_dir

cli = AppGroup("licence", help="Verify the licences of checkpoints.")


@cli.command("check", with_appcontext=False)  # the app (and database) only with --challenge
@click.argument("directory", type=click.Path(path_type=str))
@click.option(
    "--challenge",
    "slug",
    default=None,
    help="Use this challenge's [licence] policy (default: the 2024 challenge's policy).",
)
def check(directory: str, slug: str | None) -> None:
    """Print the licence verdict of the checkpoint in DIRECTORY."""
    verdict = check_licence_dir(directory, _policy(slug))
    click.echo(json.dumps(verdict.to_dict(), indent=2))


def _policy(slug: str | None) -> LicencePolicy:
    """The named challenge's policy, read from the database; the default policy without a slug."""
    if slug is None:
        return LicencePolicy.default()
    from app.challenges.services import get_challenge
    from app.db import session_scope
    from app.licences.services import policy_of

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context(), session_scope(app.extensions["lagc_engine"]) as session:
        challenge = get_challenge(session, slug)
        if challenge is None:
            raise click.BadParameter(
                f"there is no challenge {slug!r} (load it with `flask challenges load`)", param_hint="--challenge"
            )
        return policy_of(challenge)
