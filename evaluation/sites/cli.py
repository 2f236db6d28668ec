"""``flask sites ...``: register a site (its token printed once), revoke it, list where each stands."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import session_scope, utcnow
from evaluation.sites.leases import revoke_site
from evaluation.sites.services import SiteError, add_site, site_rows

cli = AppGroup("sites", help="Supercomputer sites whose agents run evaluations.")


def _engine():
    return current_app.extensions["lagc_engine"]


@cli.command("add")
@click.argument("name")
@click.option("--cluster", required=True, help="The cluster profile the site serves (e.g. lumi-g).")
@click.option("--max-jobs", type=int, default=4, show_default=True, help="Evaluations the site takes at once.")
def add_command(name: str, cluster: str, max_jobs: int) -> None:
    """Register site NAME and print its token, once: give it to the site's agent (LAGC_SITE_TOKEN or
    --token-file), never on a command line. A revoked site is registered again with a new token."""
    try:
        with session_scope(_engine()) as session:
            site, token = add_site(session, name, cluster, max_jobs)
            out = {"site": site.name, "cluster": site.cluster, "token": token}
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(out, indent=2))


@cli.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Revoke site NAME's token: its agent is refused from now on; what it held goes back to the queue, or
    fails as a retryable attempt if its job may already run there."""
    try:
        with session_scope(_engine()) as session:
            revoke_site(session, name)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked site {name}")


@cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the revoked sites.")
def list_command(show_all: bool) -> None:
    """Every site: its cluster, online or offline, when it was last heard from, and its evaluations running
    and waiting there (leased, being submitted, in the site's queue), as JSON."""
    settings = current_app.config["LAGC"]
    with session_scope(_engine()) as session:
        rows = site_rows(session, utcnow(), settings.site_lease_seconds)
    keys = ("site", "cluster", "state", "last_seen", "running", "queued", "max_jobs")
    click.echo(
        json.dumps([{k: row[k] for k in keys} for row in rows if show_all or row["state"] != "revoked"], indent=2)
    )
