"""The agent's staging against real HTTP servers: a download resumed with HTTP Range, a file whose bytes are
not its sha256 refused, a Hub submission taken from the Hub at its commit (FakeHub, the one fake: the real
Hub is out of reach) with the platform as the fallback, reuse, housekeeping; and the agent's command line
with every web and database package blocked."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evaluation.agent.client import PlatformClient
from evaluation.agent.hub import hub_fetcher
from evaluation.agent.staging import Stager, StagingError
from evaluation.policy import model_digest
from tests.fakehub import FakeHub

ROOT = Path(__file__).resolve().parents[3]


class FilePlatform:
    """The file route of the site API as a plain server: any path ending in /files/<sha256> serves those bytes,
    honouring Range; it records every request's path and Range header."""

    def __init__(self, files: dict[str, bytes]):
        self.files = {hashlib.sha256(d).hexdigest(): d for d in files.values()}
        self.requests: list[tuple[str, str | None]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                platform.requests.append((self.path, self.headers.get("Range")))
                data = platform.files.get(self.path.rsplit("/", 1)[-1])
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = int(self.headers["Range"][6:-1]) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def model_files() -> dict[str, bytes]:
    return {"config.json": b'{"model_type": "gpt2"}', "model.safetensors": os.urandom(3 * 1024 * 1024 + 17)}


def _model(files: dict[str, bytes], hub: dict | None = None) -> dict:
    entries = [{"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in files.items()]
    return {"sha256": model_digest((e["name"], e["sha256"]) for e in entries), "files": entries, "hub": hub}


def test_an_interrupted_download_resumes_where_it_stopped_and_the_folder_is_checked_and_reused(tmp_path, model_files):
    platform = FilePlatform(model_files)
    stager = Stager(tmp_path, PlatformClient(platform.url, "lagc_site_x"))
    weights = model_files["model.safetensors"]
    sha = hashlib.sha256(weights).hexdigest()
    (tmp_path / "cas" / "partial").mkdir(parents=True)
    (tmp_path / "cas" / "partial" / f"{sha}.part").write_bytes(weights[:1_000_000])  # cut off earlier
    folder = stager.stage_model(7, 1, _model(model_files))
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".used"} == model_files
    assert (f"/api/v1/sites/leases/7/1/files/{sha}", "bytes=1000000-") in platform.requests
    assert stager.fetched == len(weights) - 1_000_000 + len(model_files["config.json"])
    assert oct(stager.blob(sha).stat().st_mode & 0o777) == "0o444"
    before = len(platform.requests)
    assert stager.stage_model(8, 1, _model(model_files)) == folder and len(platform.requests) == before


def test_a_file_whose_bytes_are_not_its_sha256_is_refused_and_not_kept(tmp_path, model_files):
    platform = FilePlatform(model_files)
    tampered = dict(model_files, **{"config.json": b'{"model_type": "evil"}'})
    platform.files[hashlib.sha256(model_files["config.json"]).hexdigest()] = tampered["config.json"]
    stager = Stager(tmp_path, PlatformClient(platform.url, "lagc_site_x"))
    with pytest.raises(StagingError, match="has sha256"):
        stager.stage_model(7, 1, _model(model_files))
    assert not (tmp_path / "models").exists() and not list((tmp_path / "cas" / "partial").glob("*.part"))


def test_a_hub_submission_comes_from_the_hub_at_its_commit_and_from_the_platform_where_the_hub_fails(
    tmp_path, model_files
):
    hub = FakeHub()
    hub.thread.start()
    pushed = dict(model_files, **{"config.json": b'{"changed": "on the hub"}'})  # not the pinned bytes
    commit = hub.add("aurora/aurora-tiny", pushed)
    platform = FilePlatform(model_files)
    stager = Stager(tmp_path, PlatformClient(platform.url, "lagc_site_x"), hub_fetcher(hub.url))
    folder = stager.stage_model(7, 1, _model(model_files, {"repo": "aurora/aurora-tiny", "commit": commit}))
    assert (folder / "model.safetensors").read_bytes() == model_files["model.safetensors"]
    assert (folder / "config.json").read_bytes() == model_files["config.json"]
    assert hub.downloaded() == {"model.safetensors", "config.json"}
    assert [path.rsplit("/", 1)[-1] for path, _ in platform.requests] == [
        hashlib.sha256(model_files["config.json"]).hexdigest()
    ]  # only the file the Hub got wrong
    hub.server.shutdown()


def test_housekeeping_removes_what_no_lease_used_for_the_grace_period_and_never_what_is_in_use(tmp_path, model_files):
    platform = FilePlatform(model_files)
    stager = Stager(tmp_path, PlatformClient(platform.url, "lagc_site_x"))
    old = stager.stage_model(1, 1, _model({"config.json": model_files["config.json"]}))
    kept = stager.stage_model(2, 1, _model(model_files))
    later = time.time() + 3600
    assert stager.housekeeping([kept], keep_seconds=1800, now=later) == 1  # the old folder; its blob is shared
    assert not old.exists() and kept.exists()
    assert stager.housekeeping([], keep_seconds=1800, now=later) == 3  # the folder, then its two blobs
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


BLOCKER = """
import sys
BLOCKED = ("flask", "flask_login", "flask_wtf", "werkzeug", "sqlalchemy", "sqlmodel", "alembic", "apscheduler",
           "psycopg", "psycopg2", "app")
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed at this site")
sys.meta_path.insert(0, Blocker())
import evaluation.agent.work, evaluation.agent.staging, evaluation.agent.client  # the whole agent, not just --help
import runpy
sys.argv = ["python -m evaluation.agent", "--help"]
runpy.run_module("evaluation.agent", run_name="__main__")
"""


def test_the_agent_runs_where_no_web_framework_database_code_or_driver_is_installed():
    proc = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "--platform" in proc.stdout and "LAGC_SITE_TOKEN" in proc.stdout


def test_the_local_transport_puts_a_staged_folder_where_the_site_wants_it_by_hard_links(tmp_path):
    from evaluation.runners.transport import LocalTransport, read_int, read_tail

    staged = tmp_path / "agent" / "models" / "abc"
    staged.mkdir(parents=True)
    (staged / "model.safetensors").write_bytes(b"weights")
    transport, remote = LocalTransport(), tmp_path / "scratch" / "models" / "abc"
    transport.put_folder(staged, remote)
    transport.put_folder(staged, remote)  # again: nothing changes
    assert (remote / "model.safetensors").stat().st_ino == (staged / "model.safetensors").stat().st_ino
    transport.put_folder(staged, staged)  # the site's folder is the agent's own: nothing to do
    transport.write_bytes(remote / "job" / "exitcode", b"0\n")
    assert read_int(transport, remote / "job" / "exitcode") == 0 and read_int(transport, remote / "none") is None
    transport.write_bytes(remote / "job" / "log", b"a\nprogress 10%\rprogress 100%\nlast line\n")
    assert read_tail(transport, remote / "job" / "log") == ("a", "progress 100%", "last line")
    assert transport.fetch_folder(remote, tmp_path / "fetched") == remote
    assert transport.run(["true"]).returncode == 0
