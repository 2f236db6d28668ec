"""Every setting goes through `Settings`: the environment is read in one place, each variable it reads is in
README.md's settings table, and the platform's code reads the environment nowhere else."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from app.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r'"([A-Z][A-Z0-9_]{2,})"')


def test_every_variable_settings_reads_is_in_the_readme_table():
    read = set(VARIABLE.findall(inspect.getsource(Settings.from_env)))
    table = (ROOT / "README.md").read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    assert read and {name for name in read if f"`{name}`" not in table} == set()


def environment_reads(path: Path) -> list[int]:
    """Lines of `os.environ.get(...)`, `os.environ[...]` loads and `os.getenv(...)` in a module."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and ast.unparse(node.func.value) == "os.environ"
        ):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.ctx, ast.Load)
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_but_settings_reads_the_environment():
    reads = {
        str(path.relative_to(ROOT)): lines
        for package in ("app", "evaluation", "leaderboard", "scoring")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := environment_reads(path))
    }
    assert {path: lines for path, lines in reads.items() if path != "app/settings.py"} == {}


def test_the_scheduler_intervals_and_the_hub_endpoint_come_from_the_environment():
    settings = Settings.from_env(
        {
            "LAGC_SCHEDULER_INTERVAL": "5",
            "LAGC_SCHEDULER_WAKE": "0",
            "HF_ENDPOINT": "http://hub.internal",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/m",
        }
    )
    assert (settings.scheduler_interval, settings.scheduler_wake) == (5.0, 0.0)
    assert settings.hub_endpoint == "http://hub.internal" and str(settings.metrics_dir) == "/tmp/m"
    with pytest.raises(SettingsError, match="LAGC_SCHEDULER_INTERVAL"):
        Settings.from_env({"LAGC_SCHEDULER_INTERVAL": "0"})


def test_the_cheapest_password_hashing_is_for_the_test_suite_only():
    assert Settings.from_env({"LAGC_ENV": "testing", "LAGC_PASSWORD_HASH_COST": "cheapest"}).password_hash_cost == (
        "cheapest"
    )
    for env in ("development", "production"):
        with pytest.raises(SettingsError, match="test suite only"):
            Settings.from_env({"LAGC_ENV": env, "LAGC_PASSWORD_HASH_COST": "cheapest", "SECRET_KEY": "s" * 40})
    with pytest.raises(SettingsError, match="must be one of standard, cheapest"):
        Settings.from_env({"LAGC_PASSWORD_HASH_COST": "none"})


def test_a_password_hashed_cheaply_is_rehashed_at_the_standard_cost():
    from app.accounts.services import Passwords

    cheap, standard = Passwords(), Passwords()
    cheap.use("cheapest")
    made = cheap.hash("a long enough password")
    assert standard.verify(made, "a long enough password") and standard.check_needs_rehash(made)
    assert not standard.check_needs_rehash(standard.hash("a long enough password"))
    assert "m=65536,t=3,p=4" in standard.hash("x") and "m=8,t=1,p=1" in made
