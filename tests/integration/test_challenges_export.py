"""`flask challenges export SLUG`: the configuration as TOML that `challenges load` takes back unchanged, here
and in a fresh instance (the bundled 2024 and 2026 challenges and the demo)."""

from __future__ import annotations

import hashlib

import pytest

from app import create_app
from app.challenges.config import parse_config
from app.challenges.services import get_challenge, load_config_text
from app.db import utcnow
from app.demo import demo_config_text
from app.migrate import upgrade
from app.settings import Settings

SLUGS = ["lagc-2024", "frontier-2026", "demo"]


@pytest.fixture
def loaded(app, db):
    """The bundled challenges loaded by `challenges load` (the configured files), and the demo's text."""
    result = app.test_cli_runner().invoke(args=["challenges", "load"])
    assert result.exit_code == 0, result.output
    with db() as session:
        load_config_text(session, demo_config_text(utcnow()))
    return app


def _export(app, slug: str) -> bytes:
    result = app.test_cli_runner().invoke(args=["challenges", "export", slug])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _stored(app, slug: str):
    from app.db import session_scope

    with session_scope(app.extensions["lagc_engine"]) as session:
        challenge = get_challenge(session, slug)
        return challenge.config_text, challenge.config_sha256, challenge.loaded_at


@pytest.mark.parametrize("slug", SLUGS)
def test_an_export_is_the_stored_text_byte_for_byte_and_loads_back_unchanged(loaded, tmp_path, slug):
    text, sha256, loaded_at = _stored(loaded, slug)
    exported = _export(loaded, slug)
    assert exported == text.encode("utf-8") and hashlib.sha256(exported).hexdigest() == sha256
    assert parse_config(exported.decode("utf-8")).sha256 == sha256  # the contract: sha256 over the text
    (tmp_path / "exported.toml").write_bytes(exported)
    result = loaded.test_cli_runner().invoke(args=["challenges", "load", str(tmp_path / "exported.toml")])
    assert result.exit_code == 0 and f"loaded {slug}" in result.output
    assert _stored(loaded, slug) == (text, sha256, loaded_at)  # nothing changed: not even reloaded
    assert _export(loaded, slug) == exported


@pytest.mark.parametrize("slug", SLUGS)
def test_an_export_loaded_into_a_fresh_instance_exports_the_same_bytes_with_the_same_sha256(loaded, tmp_path, slug):
    exported = _export(loaded, slug)
    (tmp_path / f"{slug}.toml").write_bytes(exported)
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(fresh_url)
    fresh = create_app(
        Settings(
            env="testing", database_url=fresh_url, instance_dir=tmp_path / "fresh", secret_key="test-secret-" + "y" * 32
        )
    )
    try:
        result = fresh.test_cli_runner().invoke(args=["challenges", "load", str(tmp_path / f"{slug}.toml")])
        assert result.exit_code == 0, result.output
        assert _export(fresh, slug) == exported
        assert _stored(fresh, slug)[1] == _stored(loaded, slug)[1] == hashlib.sha256(exported).hexdigest()
    finally:
        fresh.extensions["lagc_engine"].dispose()


def test_exporting_an_unknown_challenge_says_so_and_exits_non_zero(app):
    result = app.test_cli_runner().invoke(args=["challenges", "export", "no-such-challenge"])
    assert result.exit_code == 1 and "no challenge 'no-such-challenge'" in result.output
