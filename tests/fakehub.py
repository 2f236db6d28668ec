"""FakeHub, the one fake in the tests, at their one true outer edge (the Hugging Face Hub cannot be reached
from here): a real local HTTP server speaking the few endpoints huggingface_hub calls to resolve a revision
and read files at a commit, for intake (checkpoints) and the release check (licences) alike.

    GET  /api/models/{repo}/revision/{revision}   model_info (siblings with sizes)
    GET  /api/models/{repo}/tree/{commit}          list_repo_tree (used by snapshot_download)
    HEAD /{repo}/resolve/{commit}/{file}           the metadata hf_hub_download needs (X-Repo-Commit, ETag, size)
    GET  /{repo}/resolve/{commit}/{file}           the bytes (a `Range: bytes=a-b` request gets 206 and that slice)

A repository given a token answers 404 with X-Error-Code: RepoNotFound to anyone without that token, as
the Hub does for private repositories. Every request path is logged, so tests can see what was fetched.

    hub = FakeHub(); hub.thread.start(); sha = hub.add("owner/name", {"config.json": b"{}"}); ... hub.stop()
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class FakeHub:
    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Authorization)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, repo: str, files: dict[str, bytes], branch: str = "main", token: str | None = None) -> str:
        """Push `files` as a new commit of `repo` on `branch` (older commits stay); returns its sha."""
        commit = hashlib.sha1(repo.encode() + b"".join(n.encode() + d for n, d in sorted(files.items()))).hexdigest()
        entry = self.repos.setdefault(repo, {"commits": {}, "branches": {}, "token": token})
        entry["commits"][commit] = files
        entry["branches"][branch] = commit
        return commit

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def downloaded(self) -> set[str]:
        """File names whose bytes were fetched (GET on resolve)."""
        return {path.rsplit("/", 1)[1] for method, path, _ in self.requests if method == "GET" and "/resolve/" in path}


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self._serve(body=False)

        def do_GET(self):
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append((self.command, path, self.headers.get("Authorization")))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 6:
                self._api(f"{parts[2]}/{parts[3]}", parts[4], "/".join(parts[5:]), body)
            elif len(parts) >= 5 and parts[2] == "resolve":
                self._file(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), body)
            else:
                self._send(404, b'{"error": "not found"}', body)

        def _repo(self, name: str, revision: str):
            repo = hub.repos.get(name)
            if repo is None or (repo["token"] and self.headers.get("Authorization") != f"Bearer {repo['token']}"):
                self._send(404, b'{"error": "Repository not found"}', True, {"X-Error-Code": "RepoNotFound"})
                return None
            commit = repo["branches"].get(revision, revision)
            if commit not in repo["commits"]:
                self._send(404, b'{"error": "Invalid rev id"}', True, {"X-Error-Code": "RevisionNotFound"})
                return None
            return commit, repo["commits"][commit]

        def _api(self, name: str, kind: str, revision: str, body: bool) -> None:
            found = self._repo(name, revision)
            if found is None:
                return
            commit, files = found
            if kind == "revision":
                document = {
                    "id": name,
                    "modelId": name,
                    "sha": commit,
                    "private": bool(hub.repos[name]["token"]),
                    "gated": False,
                    "disabled": False,
                    "tags": [],
                    "downloads": 0,
                    "likes": 0,
                    "siblings": [{"rfilename": n, "size": len(d), "blobId": _oid(d)} for n, d in files.items()],
                }
            else:
                document = [{"type": "file", "path": n, "size": len(d), "oid": _oid(d)} for n, d in files.items()]
            self._send(200, json.dumps(document).encode(), body, {"Content-Type": "application/json"})

        def _file(self, name: str, revision: str, filename: str, body: bool) -> None:
            found = self._repo(name, revision)
            if found is None:
                return
            commit, files = found
            data = files.get(filename)
            if data is None:
                self._send(404, b"", body, {"X-Error-Code": "EntryNotFound"})
                return
            headers = {"X-Repo-Commit": commit, "ETag": f'"{_oid(data)}"', "Content-Type": "application/octet-stream"}
            wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
            if wanted and body:
                first = int(wanted.group(1))
                last = int(wanted.group(2)) if wanted.group(2) else len(data) - 1
                part = data[first : last + 1]
                headers["Content-Range"] = f"bytes {first}-{first + len(part) - 1}/{len(data)}"
                self._send(206, part, body, headers)
                return
            self._send(200, data, body, headers)

        def _send(self, status: int, data: bytes, body: bool, headers: dict | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def _oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
