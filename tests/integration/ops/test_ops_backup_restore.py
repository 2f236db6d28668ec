"""Backup of the database and the checkpoint store, restored into a fresh instance (SQLite and PostgreSQL)."""

import json
import os
import stat
from pathlib import Path

import pytest

from app.accounts.models import Role
from app.audit.services import record
from app.ops.backup import row_counts, sha256_of
from tests.helpers import create_database, drop_database

BLOB = b"safetensors bytes " * 1000


def store_checkpoint(storage: Path) -> str:
    """A content-addressed blob, its read-only pinned folder link, and a transient upload part."""
    digest = __import__("hashlib").sha256(BLOB).hexdigest()
    blob = storage / "blobs" / "sha256" / digest[:2] / digest[2:]
    blob.parent.mkdir(parents=True)
    blob.write_bytes(BLOB)
    blob.chmod(0o444)
    pinned = storage / "submissions" / "1"
    pinned.mkdir(parents=True)
    os.link(blob, pinned / "model.safetensors")
    pinned.chmod(0o555)
    (storage / "uploads").mkdir()
    (storage / "uploads" / "abc.part").write_bytes(b"half")
    return digest


@pytest.fixture
def fresh_instance(settings, tmp_path):
    """Settings of a fresh instance on the same backend: a new SQLite file or a new PostgreSQL database."""
    server = os.environ.get("TEST_POSTGRES_URL", "")
    name = f"lagc_restore_{os.getpid()}"
    if settings.database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh' / 'platform.db'}"
    else:
        url = create_database(server, name)
    yield settings.with_overrides(
        database_url=url, instance_dir=tmp_path / "fresh", storage_dir=tmp_path / "fresh" / "storage"
    )
    if not settings.database_url.startswith("sqlite"):
        drop_database(server, name)


def test_a_backup_restored_into_a_fresh_instance_has_the_same_rows_and_files(
    app, db, settings, make_user, challenge, fresh_instance, tmp_path
):
    from app import create_app

    make_user("ann@example.org")
    make_user("org@example.org", Role.organiser)
    with db() as session:
        record(session, "ops.test", "thing", 1, note="kept")
    digest = store_checkpoint(Path(settings.storage_dir))
    before = row_counts(settings.database_url)
    result = app.test_cli_runner().invoke(args=["ops", "backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert {f["path"] for f in manifest["storage"]["files"]} == {
        f"blobs/sha256/{digest[:2]}/{digest[2:]}",
        "submissions/1/model.safetensors",
    }
    fresh = create_app(fresh_instance)
    try:
        result = fresh.test_cli_runner().invoke(args=["ops", "restore", str(tmp_path / "backup")])
        assert result.exit_code == 0, result.output
    finally:
        fresh.extensions["lagc_engine"].dispose()
    assert row_counts(fresh_instance.database_url) == before and before["user"] == 2 and before["auditevent"] >= 3
    restored = Path(fresh_instance.storage_dir)
    pinned = restored / "submissions" / "1" / "model.safetensors"
    assert sha256_of(pinned) == digest and not (restored / "uploads").exists()
    assert pinned.stat().st_ino == (restored / "blobs" / "sha256" / digest[:2] / digest[2:]).stat().st_ino
    assert stat.S_IMODE(pinned.parent.stat().st_mode) == 0o555 and stat.S_IMODE(pinned.stat().st_mode) == 0o444


def test_a_restore_refuses_a_database_that_holds_data_unless_forced(app, make_user, settings, tmp_path):
    make_user("ann@example.org")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ops", "backup", str(tmp_path / "b")]).exit_code == 0
    refused = runner.invoke(args=["ops", "restore", str(tmp_path / "b")])
    assert refused.exit_code != 0 and "holds data" in refused.output
    forced = runner.invoke(args=["ops", "restore", "--force", str(tmp_path / "b")])
    assert forced.exit_code == 0, forced.output


def test_a_damaged_backup_is_refused_before_anything_is_restored(app, settings, fresh_instance, tmp_path):
    from app.ops.backup import BackupError
    from app.ops.restore import restore

    store_checkpoint(Path(settings.storage_dir))
    assert app.test_cli_runner().invoke(args=["ops", "backup", str(tmp_path / "b")]).exit_code == 0
    target = [p for p in (tmp_path / "b" / "storage").rglob("*") if p.is_file()][0]
    target.chmod(0o644)
    if target.stat().st_nlink > 1:  # hard-linked to the live store: replace, never write through the link
        target.unlink()
    target.write_bytes(b"tampered")
    with pytest.raises(BackupError, match="does not match its sha256"):
        restore(fresh_instance, tmp_path / "b")
    assert not Path(fresh_instance.storage_dir).exists()


def test_a_backup_goes_only_into_an_empty_folder(app, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = app.test_cli_runner().invoke(args=["ops", "backup", str(tmp_path / "full")])
    assert result.exit_code != 0 and "not empty" in result.output
