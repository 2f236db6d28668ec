"""Restore a backup (see `backup.py`) into a fresh instance: its database and its checkpoint store.

The restore checks every file against the manifest first, refuses a database that holds rows or a store
that holds files unless forced, then compares the restored row counts with the manifest.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from app.db import analyse, make_engine
from app.ops.backup import (
    FORMAT,
    BackupError,
    database_kind,
    libpq_env,
    place_file,
    durable_files,
    postgres_tool,
    row_counts,
    sha256_of,
)
from app.settings import Settings


def read_manifest(folder: Path) -> dict:
    """The manifest, after checking every file of the backup against its sha256."""
    path = Path(folder) / "manifest.json"
    if not path.exists():
        raise BackupError(f"{folder} has no manifest.json: it is not a (complete) backup")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    database = manifest["database"]
    if sha256_of(Path(folder) / database["file"]) != database["sha256"]:
        raise BackupError(f"{database['file']} does not match its sha256 in the manifest")
    for entry in manifest["storage"]["files"]:
        if sha256_of(Path(folder) / "storage" / entry["path"]) != entry["sha256"]:
            raise BackupError(f"storage/{entry['path']} does not match its sha256 in the manifest")
    return manifest


def _database_is_empty(url: str) -> bool:
    return not any(count for table, count in row_counts(url).items() if table != "alembic_version")


def _restore_database(url: str, dump: Path) -> None:
    if database_kind(url) == "sqlite":
        path = Path(make_url(url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        source, destination = sqlite3.connect(dump), sqlite3.connect(path)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        return
    result = subprocess.run(
        [
            postgres_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--exit-on-error",
            "-d",
            make_url(url).database,
            str(dump),
        ],
        env=libpq_env(url),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-2000:]}")


def _analyse(url: str) -> None:
    """Give the restored database its planner statistics (pg_restore leaves them to autovacuum)."""
    engine = make_engine(url)
    try:
        analyse(engine)
    finally:
        engine.dispose()


def _restore_storage(source: Path, storage: Path, files: list[dict], dirs: list[dict]) -> None:
    """Copy the files back (never linking to the backup), keep shared inodes shared, then set the modes."""
    seen: dict = {}
    for root, _dirs, _files in os.walk(storage):  # a forced restore writes into read-only pinned folders
        os.chmod(root, os.stat(root).st_mode | 0o700)
    for entry in files:
        target = storage / entry["path"]
        if target.exists():
            os.chmod(target.parent, 0o755)
            os.chmod(target, 0o644)
            target.unlink()
        place_file(source / entry["path"], target, seen, allow_link_to_source=False)
    for entry in files:
        os.chmod(storage / entry["path"], entry["mode"])
    for entry in sorted(dirs, key=lambda d: d["path"].count("/"), reverse=True):  # deepest first
        os.chmod(storage / entry["path"], entry["mode"])


def restore(settings: Settings, folder: Path, force: bool = False) -> dict:
    """Restore the backup in `folder` into this instance's database and store; returns the row counts."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    database = manifest["database"]
    if database["kind"] != database_kind(settings.database_url):
        raise BackupError(
            f"the backup holds a {database['kind']} database; this instance uses {database_kind(settings.database_url)}"
        )
    storage = Path(settings.storage_dir)
    if not force and not _database_is_empty(settings.database_url):
        raise BackupError("the database holds data; restore into a fresh instance or pass --force to replace it")
    if not force and any(True for _ in durable_files(storage)):
        raise BackupError(f"the checkpoint store {storage} holds files; use a fresh one or pass --force")
    _restore_database(settings.database_url, folder / database["file"])
    _analyse(settings.database_url)
    _restore_storage(folder / "storage", storage, manifest["storage"]["files"], manifest["storage"].get("dirs", []))
    restored = row_counts(settings.database_url)
    differing = {t: (n, restored.get(t)) for t, n in database["rows"].items() if restored.get(t) != n}
    if differing:
        raise BackupError(f"row counts differ after the restore (expected, found): {differing}")
    return restored
