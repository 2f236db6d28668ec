"""Backup and restore of the database and the checkpoint store, with a manifest of sha256 sums.

A backup folder holds `database.sqlite3` (SQLite's online backup API: a consistent snapshot while the
platform runs) or `database.pgdump` (`pg_dump -Fc`: one consistent transaction), `storage/` (the durable
part of the checkpoint store: blobs, pinned submission folders and anything else but the transient
`uploads/`, `staging/`, `downloads/`) and `manifest.json`, written last, with every file's sha256 and the
database's row counts. Read-only files (the content-addressed blobs) are hard-linked when the backup sits
on the same filesystem; files that share an inode in the store (pinned folders link to blobs) share it in
the backup and after a restore too.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.db import utcnow
from app.settings import Settings

TRANSIENT = {"uploads", "staging", "downloads"}
FORMAT = 1


class BackupError(RuntimeError):
    """The backup or restore cannot go ahead; the message says why and what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def postgres_tool(name: str) -> str:
    """pg_dump / pg_restore: the newest under /usr/lib/postgresql/*/bin (Debian), else the one on the PATH."""
    found = shutil.which(name)
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]  # the newest client reads dumps of every older server
    if found:
        return found
    raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")


def libpq_env(url: str) -> dict[str, str]:
    """The connection as libpq environment variables, so no password appears on a command line."""
    parsed = make_url(url)
    env = {
        **os.environ,
        "PGHOST": parsed.host or "localhost",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username or "",
        "PGDATABASE": parsed.database or "",
    }
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return env


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def row_counts(url: str) -> dict[str, int]:
    """Rows per table of the platform's schema (tables the database has)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            existing = set(inspect(conn).get_table_names())
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables
                if t.name in existing
            }
    finally:
        engine.dispose()


def _dump_database(url: str, folder: Path) -> Path:
    if database_kind(url) == "sqlite":
        target = folder / "database.sqlite3"
        source = sqlite3.connect(make_url(url).database)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        return target
    target = folder / "database.pgdump"
    subprocess.run(
        [postgres_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(target)],
        env=libpq_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def durable_files(storage: Path):
    """Every file of the store outside the transient folders, as paths relative to the store."""
    if not storage.exists():
        return
    for root, dirs, files in os.walk(storage):
        relative_root = Path(root).relative_to(storage)
        if relative_root == Path("."):
            dirs[:] = sorted(d for d in dirs if d not in TRANSIENT)
        else:
            dirs.sort()
        for name in sorted(files):
            yield relative_root / name


def place_file(source: Path, target: Path, seen: dict, allow_link_to_source: bool) -> None:
    """Copy (or hard-link) one file, keeping files that shared an inode linked together."""
    info = source.stat()
    target.parent.mkdir(parents=True, exist_ok=True)
    earlier = seen.get((info.st_dev, info.st_ino))
    if earlier is not None:
        os.link(earlier, target)
        return
    read_only = not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    try:
        if not (allow_link_to_source and read_only):
            raise OSError("copy")
        os.link(source, target)
    except OSError:  # another filesystem, or a file that may still change: copy it
        shutil.copy2(source, target)
    seen[(info.st_dev, info.st_ino)] = target


def durable_dirs(storage: Path) -> list[dict]:
    """The folders of the store outside the transient ones, with their modes (pinned folders are read-only)."""
    found = []
    for relative in sorted({p.parent for p in durable_files(storage)} - {Path(".")}):
        for folder in [relative, *relative.parents][:-1]:
            found.append(folder)
    return [{"path": f.as_posix(), "mode": stat.S_IMODE((storage / f).stat().st_mode)} for f in sorted(set(found))]


def _copy_storage(storage: Path, target: Path, link: bool) -> list[dict]:
    files, seen = [], {}
    for relative in durable_files(storage):
        place_file(storage / relative, target / relative, seen, allow_link_to_source=link)
        info = (storage / relative).stat()
        files.append(
            {
                "path": relative.as_posix(),
                "bytes": info.st_size,
                "sha256": sha256_of(target / relative),
                "mode": stat.S_IMODE(info.st_mode),
            }
        )
    return files


def backup(settings: Settings, folder: Path) -> dict:
    """Write a backup of the database and the checkpoint store into an empty (or new) folder."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    dump = _dump_database(settings.database_url, folder)
    files = _copy_storage(Path(settings.storage_dir), folder / "storage", link=True)
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": {
            "kind": database_kind(settings.database_url),
            "file": dump.name,
            "sha256": sha256_of(dump),
            # SQLite: counted in the snapshot itself; PostgreSQL: counted just after the dump
            # (equal to the dump's while nothing writes, e.g. in a maintenance window)
            "rows": row_counts(f"sqlite:///{dump}" if dump.suffix == ".sqlite3" else settings.database_url),
        },
        "storage": {"files": files, "dirs": durable_dirs(Path(settings.storage_dir))},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
