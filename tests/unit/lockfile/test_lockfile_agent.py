"""The site agent installs alone from the lock: scripts/lib/agent-requirements.txt is the agent extra's locked
closure (scripts/lock.sh writes it), with hashes, and holds no web framework and no database driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.environment import extra_requirements

ROOT = Path(__file__).resolve().parents[3]
FILE = ROOT / "scripts" / "lib" / "agent-requirements.txt"


def _requirements(text: str) -> list[str]:
    return [line for line in text.replace("\\\n", "").splitlines() if line and not line.startswith("#")]


def test_the_agents_requirements_file_is_the_locked_closure_of_the_agent_extra():
    written = _requirements(FILE.read_text(encoding="utf-8"))
    assert written == _requirements("\n".join(extra_requirements(ROOT / "uv.lock", "lagc-platform", "agent"))), (
        "run scripts/lock.sh"
    )
    names = {line.split("==")[0] for line in written}
    assert "huggingface-hub" in names
    assert not names & {
        "flask",
        "werkzeug",
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "psycopg",
        "psycopg-binary",
        "gunicorn",
        "torch",
        "lm-eval",
    }
    assert all("--hash=sha256:" in line for line in written)


def test_an_extra_the_project_lacks_is_refused():
    with pytest.raises(ValueError, match="no extra 'nope'"):
        extra_requirements(ROOT / "uv.lock", "lagc-platform", "nope")
