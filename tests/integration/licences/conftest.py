"""Licence test fixtures: a team with an accepted submission, and FakeHub, a real local
HTTP server speaking the two Hub REST calls the release check makes (the Hugging Face Hub cannot be reached
from here)."""
from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from tests import factories


@pytest.fixture
def make_team(db, make_user, challenge):
    """`make_team(email, name)`: an entrant, their team in the 2024 challenge and one accepted submission (no
    licence verdict yet); returns their ids, the e-mail and the slug."""
    def make(email: str, name: str, slug: str = challenge) -> dict:
        user_id = make_user(email)
        with db() as session:
            team = factories.registered_team(session, user_id, slug, name)
            session.flush()
            submission = factories.submission(session, team.challenge_id, team.id, user_id, label=f"{name} 7B",
                                              licence_verdict=None, parameters=None, accepted_at=None)
            return {"user_id": user_id, "email": email, "team_id": team.id, "submission_id": submission.id,
                    "challenge_id": team.challenge_id, "slug": slug}
    return make


@pytest.fixture
def entrant_team(make_team):
    """An entrant (ana@example.eu) with a team in the 2024 challenge and one accepted submission."""
    return make_team("ana@example.eu", "Aurora Labs")


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
