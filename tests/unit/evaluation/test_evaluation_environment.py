"""The environment's lock hash: recorded only when the installed packages are versions uv.lock pins."""

from __future__ import annotations

import hashlib
from pathlib import Path

from evaluation.environment import (
    differences,
    environment_lock_sha256,
    installed_versions,
    lock_differences,
    lock_sha256,
    locked_version,
    locked_versions,
)

LOCK = Path(__file__).resolve().parents[3] / "uv.lock"
SMALL_LOCK = """version = 1
requires-python = "==3.11.*"

[[package]]
name = "Flask_Login"
version = "0.6.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.3.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }
"""


def test_the_lock_hash_is_the_sha256_of_the_file(tmp_path):
    lock = tmp_path / "uv.lock"
    lock.write_text(SMALL_LOCK)
    assert lock_sha256(lock) == hashlib.sha256(SMALL_LOCK.encode()).hexdigest()


def test_locked_versions_are_read_by_normalised_name(tmp_path):
    lock = tmp_path / "uv.lock"
    lock.write_text(SMALL_LOCK)
    assert locked_versions(lock) == {"flask-login": {"0.6.3"}, "numpy": {"2.3.1", "1.26.4"}}
    assert locked_version(lock, "flask_login") == "0.6.3"


def test_an_environment_holding_a_subset_of_the_locked_versions_matches():
    locked = {"flask": frozenset({"3.1.3"}), "torch": frozenset({"2.13.0+cpu"})}
    assert differences(locked, {"flask": "3.1.3"}) == []


def test_another_version_or_an_unlocked_package_is_a_difference():
    locked = {"flask": frozenset({"3.1.3"})}
    assert differences(locked, {"flask": "3.2.0", "requests": "2.32.0"}) == [
        "flask 3.2.0 is installed, the lock pins 3.1.3",
        "requests 2.32.0 is installed, the lock has no such package",
    ]


def test_the_installers_a_virtual_environment_brings_are_not_compared():
    assert differences({"setuptools": frozenset({"84.2.1"})}, {"pip": "23.2.1", "setuptools": "65.5.0"}) == []


def test_this_test_environment_is_the_locked_one_and_names_the_lock():
    assert lock_differences(LOCK) == []
    assert environment_lock_sha256(LOCK) == lock_sha256(LOCK)


def test_an_environment_that_drifted_from_the_lock_has_no_lock_hash(tmp_path, caplog):
    lock = tmp_path / "uv.lock"
    lock.write_text(SMALL_LOCK)  # pins neither pytest nor flask, which this environment holds
    assert environment_lock_sha256(lock) is None
    assert "pytest" in caplog.text and "the lock has no such package" in caplog.text


def test_a_missing_or_unreadable_lock_gives_no_hash(tmp_path):
    assert environment_lock_sha256(tmp_path / "missing.lock") is None
    (tmp_path / "bad.lock").write_text("[[package]\n")
    assert environment_lock_sha256(tmp_path / "bad.lock") is None


def test_the_installed_versions_include_this_project():
    assert installed_versions()["lagc-platform"] == locked_version(LOCK, "lagc-platform")


def test_the_lock_is_the_checkouts_unless_lagc_lock_file_names_another(tmp_path):
    from app.settings import Settings

    assert Settings.from_env({}).lock_file == LOCK
    assert Settings.from_env({"LAGC_LOCK_FILE": str(tmp_path / "site.lock")}).lock_file == tmp_path / "site.lock"
