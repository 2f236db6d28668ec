"""The README's API examples (the Python script and the curl block under "Submitting a checkpoint from a
script") run as printed against a running platform with the demo loaded: each submits a tiny checkpoint that
the scheduler accepts, and each stops at the first refusal with the platform's reason."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ENTRANT = "readme-example@example.eu"  # its own team: other e2e files spend the demo teams' daily allowance


def readme_block(language: str) -> str:
    """The fenced block of `language` in the README's section on submitting a checkpoint from a script."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Submitting a checkpoint from a script", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, re.S)
    assert len(blocks) == 1, f"expected one {language} block in the README section"
    return blocks[0]


@pytest.fixture(scope="module")
def entrant(server_db) -> str:
    """A fresh entrant whose new team is eligible in the demo challenge: its whole daily allowance is left,
    whatever other e2e files submitted on the shared platform as the demo's teams."""
    from app.accounts.services import find_user
    from app.demo import DEMO_SLUG
    from app.eligibility.demo import ORGANISER
    from tests import factories

    with server_db() as session:
        owner = factories.user(session, ENTRANT, name="README Example")
        team = factories.registered_team(session, owner, DEMO_SLUG, "README Example Labs")
        factories.eligible(session, team, owner, find_user(session, ORGANISER))
    return ENTRANT


@pytest.fixture(scope="module")
def token(server, server_instance, entrant) -> str:
    """A token made as the README says: `flask users token` against the running platform's instance."""
    env = {**os.environ, "LAGC_INSTANCE_DIR": str(server_instance), "FLASK_APP": "app"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "users", "token", entrant, "--name", "README test"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)["token"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder holding `aurora-30b/`, a tiny generated checkpoint (the README's folder name)."""
    folder = tmp_path_factory.mktemp("readme")
    subprocess.run(
        [sys.executable, "-m", "evaluation.tinymodel", str(folder / "aurora-30b"), "--seed", "11"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def run(command: list[str], workdir: Path, server: str, token: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOKEN": token, "PLATFORM": server, "FOLDER": "aurora-30b"}
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)


def accepted(server: str, token: str, submission_id: int, seconds: float = 90) -> dict:
    """Poll the submission until the scheduler has accepted (or refused) it."""
    deadline = time.monotonic() + seconds
    while True:
        request = urllib.request.Request(
            f"{server}/api/v1/submissions/{submission_id}", headers={"Authorization": f"Bearer {token}"}
        )
        body = json.loads(urllib.request.urlopen(request, timeout=10).read())
        if body["status"] in ("accepted", "rejected") or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_the_python_example_submits_a_checkpoint_that_is_accepted(server, token, workdir):
    (workdir / "submit.py").write_text(readme_block("python"))
    result = run([sys.executable, "submit.py"], workdir, server, token)
    assert result.returncode == 0, result.stdout + result.stderr
    finalised = ast.literal_eval(result.stdout.strip().splitlines()[-1])  # the script prints the response's dict
    assert finalised["status"] == "validating"
    assert accepted(server, token, finalised["id"])["status"] == "accepted"


def test_the_curl_example_submits_a_checkpoint_that_is_accepted(server, token, workdir):
    (workdir / "submit.sh").write_text(readme_block("bash"))
    result = run(["bash", "submit.sh"], workdir, server, token)
    assert result.returncode == 0, result.stdout + result.stderr
    finalised = json.loads(result.stdout.strip().splitlines()[-1])
    assert finalised["status"] == "validating"
    assert accepted(server, token, finalised["id"])["status"] == "accepted"


@pytest.mark.parametrize("language", ["python", "bash"])
def test_each_example_stops_at_the_first_refusal_with_the_reason(server, workdir, language):
    script = workdir / f"refused.{language}"
    script.write_text(readme_block(language))
    result = run([sys.executable if language == "python" else "bash", str(script)], workdir, server, "lagc_revoked")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The API token is unknown, revoked, or its account is disabled." in output
    assert "/uploads" not in output and "finalise" not in output and "null" not in output
