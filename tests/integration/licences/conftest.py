"""Licence test fixtures: a team with an accepted submission, model card files, and FakeHub, a real local
HTTP server speaking the two Hub REST calls the release check makes (the Hugging Face Hub cannot be reached
from here)."""
from __future__ import annotations

import hashlib
import json
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

DATA = Path(__file__).parents[2] / "unit" / "licences" / "data"
MIT_LICENSE = (DATA / "LICENSE-mit-markdown.md").read_bytes()


def card(front_matter: str, body: str = "# A model\n") -> bytes:
    """A README.md with the given YAML front matter."""
    return f"---\n{textwrap.dedent(front_matter).strip()}\n---\n{body}".encode()


@pytest.fixture
def entrant_team(db, make_user, challenge):
    """An entrant (ana@example.eu) with a team in the 2024 challenge and one accepted submission."""
    return make_team(db, make_user, challenge, "ana@example.eu", "Aurora Labs")


def make_team(db, make_user, slug: str, email: str, name: str) -> dict:
    """Create an entrant, their team and an accepted submission; return their ids."""
    from app.accounts.models import User
    from app.challenges.services import get_challenge
    from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus
    from app.teams.services import register_team

    user_id = make_user(email)
    with db() as session:
        challenge = get_challenge(session, slug)
        team = register_team(session, session.get(User, user_id), challenge, name)
        session.flush()
        submission = Submission(challenge_id=challenge.id, team_id=team.id, submitted_by_id=user_id,
                                label=f"{name} 7B", source=SubmissionSource.upload,
                                status=SubmissionStatus.accepted)
        session.add(submission)
        session.flush()
        return {"user_id": user_id, "email": email, "team_id": team.id, "submission_id": submission.id,
                "challenge_id": challenge.id, "slug": slug}


class FakeHub:
    """FakeHub (the Hugging Face Hub cannot be reached from here): public model repos at pinned commits.

    Serves `GET /api/models/{repo}/revision/{rev}` and `GET /{repo}/resolve/{sha}/{file}` like the Hub.
    """

    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self, repo: str, files: dict[str, bytes], revision: str = "main", private: bool = False) -> str:
        """Publish files as the commit `revision` points to; returns the commit sha."""
        sha = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()
        entry = self.repos.setdefault(repo, {"revisions": {}, "commits": {}, "private": private})
        entry["revisions"][revision] = entry["revisions"][sha] = sha
        entry["commits"][sha] = files
        return sha

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                path = unquote(self.path)
                if path.startswith("/api/models/"):
                    repo, _, revision = path[len("/api/models/"):].partition("/revision/")
                    return self._info(repo, revision)
                owner, name, _resolve, sha, file = (path.lstrip("/").split("/", 4) + [""] * 5)[:5]
                files = hub.repos.get(f"{owner}/{name}", {}).get("commits", {}).get(sha)
                if files is None or file not in files:
                    return self._send(404, b'{"error": "Entry not found"}')
                return self._send(200, files[file], "application/octet-stream")

            def _info(self, repo, revision):
                entry = hub.repos.get(repo)
                sha = entry and entry["revisions"].get(revision)
                if not sha or entry["private"]:
                    return self._send(404 if not entry else 401, b'{"error": "Repository not found"}')
                siblings = [{"rfilename": f} for f in entry["commits"][sha]]
                body = {"id": repo, "sha": sha, "private": False, "gated": False, "siblings": siblings}
                return self._send(200, json.dumps(body).encode())

            def _send(self, status, body, kind="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def fake_hub():
    """A running FakeHub, stopped after the test."""
    hub = FakeHub()
    hub.thread.start()
    yield hub
    hub.server.shutdown()
    hub.server.server_close()
