"""`flask --app app ops backup DIR` and `flask --app app ops restore DIR [--force]`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.ops.backup import BackupError, backup
from app.ops.restore import restore

cli = AppGroup("ops", help="Operations: backup and restore.")


@cli.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Back up the database and the checkpoint store into FOLDER (new or empty)."""
    try:
        manifest = backup(current_app.config["LAGC"], folder)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(manifest["database"]["rows"].values())
    click.echo(
        f"backed up {rows} rows ({manifest['database']['kind']}) and "
        f"{len(manifest['storage']['files'])} stored files into {folder}"
    )


@cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database or store that already holds data.")
def restore_command(folder: Path, force: bool) -> None:
    """Restore the backup in FOLDER into this instance (a fresh one unless --force)."""
    current_app.extensions["lagc_engine"].dispose()  # no pooled connection may hold the old database
    try:
        restored = restore(current_app.config["LAGC"], folder, force=force)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {sum(restored.values())} rows and the checkpoint store from {folder}")
