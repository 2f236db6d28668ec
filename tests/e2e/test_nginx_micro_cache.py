"""The nginx micro-cache of docs/CACHING.md, run for real in front of the platform: Debian's nginx with the two
snippets exactly as the document gives them (only the upstream address and the cache folder replaced).
Public pages are stored and revalidated; requests with a cookie or a token, and signed-in pages, never are."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BOARD = "/leaderboard?challenge=synthetic"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.path.exists(NGINX),
        reason=("nginx is not installed: `apt-get install nginx-light` (scripts/services/all.sh install does it)"),
    ),
]


def snippet(title: str) -> str:
    """The nginx block of docs/CACHING.md whose first line is ``# lagc: <title>``."""
    text = (ROOT / "docs" / "CACHING.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    found = [block for block in blocks if block.startswith(f"# lagc: {title}\n")]
    assert len(found) == 1, f"docs/CACHING.md has no single nginx block '# lagc: {title}'"
    return found[0]


@pytest.fixture
def nginx(server, tmp_path):
    """nginx on a free port in front of the running platform, configured with the documented snippets."""
    deadline = time.monotonic() + 120
    while get(server + BOARD)[0] != 200:  # the scheduler computes the demo's board after start-up
        assert time.monotonic() < deadline, "the platform never served the synthetic board"
        time.sleep(0.5)
    upstream = server.removeprefix("http://")
    port = free_port()
    http_block = snippet("http block").replace("/var/cache/nginx/lagc", str(tmp_path / "cache"))
    server_block = snippet("server block").replace("127.0.0.1:8000", upstream)
    temp = {name: tmp_path / name for name in ("client", "proxy", "fastcgi", "uwsgi", "scgi")}
    config = tmp_path / "nginx.conf"
    config.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {tmp_path / "nginx.pid"};
error_log {tmp_path / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["client"]}; proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]}; uwsgi_temp_path {temp["uwsgi"]}; scgi_temp_path {temp["scgi"]};
{http_block}
    server {{
        listen 127.0.0.1:{port};
{server_block}
    }}
}}
""")
    checked = subprocess.run([NGINX, "-t", "-c", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([NGINX, "-c", str(config)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=20)


def get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def cache_status(url: str, **headers: str) -> str:
    return get(url, **headers)[1].get("X-Cache-Status", "")


def test_the_public_board_is_stored_and_served_with_the_platforms_headers(nginx, server):
    status, headers, body = get(nginx + BOARD)
    assert status == 200 and headers["X-Cache-Status"] in ("MISS", "EXPIRED")
    again_status, again, again_body = get(nginx + BOARD)
    assert again["X-Cache-Status"] == "HIT" and again_body == body
    direct = get(server + BOARD)[1]
    for name in (
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "ETag",
        "Cache-Control",
        "Last-Modified",
    ):
        assert again[name] == direct[name], name
    assert get(nginx + BOARD, **{"If-None-Match": again["ETag"]})[0] == 304


def test_requests_with_a_cookie_or_a_token_always_reach_the_platform(nginx):
    get(nginx + BOARD)
    assert cache_status(nginx + BOARD, Cookie="session=someone") == "BYPASS"
    assert cache_status(nginx + BOARD, Authorization="Bearer some-token") == "BYPASS"
    assert cache_status(nginx + BOARD) == "HIT"


def test_pages_that_are_not_public_are_never_stored(nginx):
    for path in ("/signin", "/leaderboard?challenge=no-such-challenge", "/dashboard"):
        for _ in range(2):
            assert cache_status(nginx + path) in ("MISS", ""), path


def test_an_expired_page_is_served_stale_while_nginx_revalidates_it(nginx):
    _, first, body = get(nginx + BOARD)
    time.sleep(6)  # max-age=5
    status, headers, stale_body = get(nginx + BOARD)
    assert status == 200 and headers["X-Cache-Status"] in ("STALE", "REVALIDATED", "EXPIRED", "UPDATING")
    deadline = time.monotonic() + 10
    while cache_status(nginx + BOARD) != "HIT":
        assert time.monotonic() < deadline, "nginx never stored the revalidated page"
        time.sleep(0.2)
