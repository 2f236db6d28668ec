"""The public pages' fast path in a real gunicorn with two workers, on SQLite and PostgreSQL: a new snapshot
reaches every worker at once (the scheduler's announcement, no commit of their own), and on the wire the
fast path's bytes are Flask's but for the Date.

gunicorn's access log names the worker (process id) that answered each request and the ETag it sent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import free_port

from ._board import HIDDEN, SLUG

ROOT = Path(__file__).resolve().parents[3]
BOARD = f"/leaderboard?challenge={SLUG}"


@contextmanager
def gunicorn(settings, log: Path, **env: str):
    """gunicorn -w 2 serving the platform on the tests' database and instance folder; yields its port."""
    port = free_port()
    environment = {
        **os.environ,
        "LAGC_ENV": "testing",
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        "LAGC_INSTANCE_DIR": str(settings.instance_dir),
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        str(log),
        "--access-logformat",
        "%(p)s %(s)s %({etag}o)s",
        "app:create_app()",
    ]
    server = subprocess.Popen(
        command, env=environment, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while get(port, "/healthz")[0] != 200:
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def raw(port: int, path: str) -> tuple[bytes, bytes]:
    """(status line and headers, body) exactly as sent, for a request with a fixed X-Request-ID."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            f"GET {path} HTTP/1.1\r\nHost: lagc.test\r\nX-Request-ID: wire-0001\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := connection.recv(1 << 16):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        head, body = raw(port, path)
    except OSError:
        return 0, b""
    return int(head.split(b" ", 2)[1]), body


def served(log: Path) -> list[tuple[str, str]]:
    """(worker pid, ETag) of every board answer logged so far."""
    lines = [line.split(" ", 2) for line in log.read_text().splitlines()]
    return [(pid, etag) for pid, status, etag in lines if status == "200" and etag != "-"]


def load_until_both_workers_answered(port: int, log: Path, since: int) -> list[tuple[str, str]]:
    """Parallel requests for the board until each of the two workers answered it at least twice (so each
    kept it and answered from memory); the (pid, ETag) answers since line ``since`` of the log."""
    with ThreadPoolExecutor(8) as pool:
        for _ in range(25):
            assert all(status == 200 for status, _ in pool.map(lambda _: get(port, BOARD), range(16)))
            time.sleep(0.2)  # gunicorn writes its access log after answering
            answers = served(log)[since:]
            pids = [pid for pid, _ in answers]
            if len(set(pids)) == 2 and min(pids.count(pid) for pid in set(pids)) >= 2:
                return answers
    pytest.fail("one worker answered every request")


def test_a_new_snapshot_reaches_both_workers_at_once(settings, board, entries, db, publish, tmp_path):
    from leaderboard.services import results_changed

    log = tmp_path / "access.log"
    with gunicorn(settings, log) as port:
        before = load_until_both_workers_answered(port, log, 0)
        assert {etag for _, etag in before} == {before[0][1]}
        board.entry("Newcomer", {"arc_easy": (0.99, 0.02), "boolq": (0.99, 0.02), HIDDEN: (0.5, 0.02)})
        with db() as session:
            results_changed(session, board.challenge_id)
        publish()  # in this test's process: the workers learn of it only from the announcement
        after = load_until_both_workers_answered(port, log, len(served(log)))
        assert before[0][1] not in {etag for _, etag in after}
        assert len({etag for _, etag in after}) == 1
        assert b"Newcomer" in get(port, BOARD)[1]


def test_on_the_wire_the_fast_path_sends_flasks_bytes_but_the_date(settings, entries, tmp_path):
    paths = [
        BOARD,
        f"{BOARD}&sort=team&order=desc",
        f"/leaderboard/{SLUG}/entries/{entries['Team B']}",
        "/",
        f"/c/{SLUG}",
        f"/api/v1/leaderboard?challenge={SLUG}&format=csv",
    ]
    with (
        gunicorn(settings, tmp_path / "fast.log") as fast,
        gunicorn(settings, tmp_path / "flask.log", LAGC_PUBLIC_CACHE_MB="0") as flask_alone,
    ):
        for path in paths:
            head, body = raw(flask_alone, path)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Cache-Control: public" in head, path
            expected = [line for line in head.split(b"\r\n") if not line.startswith(b"Date: ")]
            for _ in range(4):  # each worker's first answer is Flask's, the next ones come from memory
                fast_head, fast_body = raw(fast, path)
                assert [line for line in fast_head.split(b"\r\n") if not line.startswith(b"Date: ")] == expected
                assert fast_body == body, path
