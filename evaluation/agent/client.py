"""The agent's HTTP(S) client for the site API, on the standard library's ``http.client``.

One persistent connection (reopened when the server closed it), JSON in and out, downloads streamed to disk
with HTTP Range resume, uploads streamed from disk. ``Unreachable`` means "try again later" (no connection, a
timeout, a 5xx or 429 answer: the agent backs off and keeps its jobs running); ``Refused`` is the platform's
considered answer (a 4xx with its problem detail), which retrying will not change.

The standard library rather than ``requests`` or ``httpx``: the agent makes a handful of kinds of calls,
http.client streams with ``readinto`` into one reused buffer (the staging speed, ``bench/site_agent.py``),
and a site installs nothing for it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from evaluation.agent.protocol import API, SHA256_HEADER

BLOCK = 4 * 1024 * 1024
TIMEOUT = 60.0
USER_AGENT = "lagc-site-agent/1"


class Unreachable(Exception):
    """The platform could not be asked or answered "later" (the message says how); retry with backoff."""


class Refused(Exception):
    """The platform refused the call (4xx); ``status`` and its ``detail`` say why."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


@dataclass
class Backoff:
    """Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS architecture blog): the
    n-th consecutive failure waits a uniform time in [0, min(cap, base * 2**n)]."""

    base: float = 1.0
    cap: float = 300.0
    failures: int = 0
    rng: Callable[[], float] = random.random

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next try."""
        delay = min(self.cap, self.base * 2**self.failures) * self.rng()
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        self.failures = 0


class PlatformClient:
    """The site API, for one site's token."""

    def __init__(self, base_url: str, token: str, timeout: float = TIMEOUT):
        parts = urlsplit(base_url)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname or "", parts.port
        self.prefix = parts.path.rstrip("/")
        self.token, self.timeout = token, timeout
        self._connection: http.client.HTTPConnection | None = None
        self._buffer = bytearray(BLOCK)

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self.scheme == "https":
                self._connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context(), blocksize=BLOCK
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout, blocksize=BLOCK
                )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> http.client.HTTPResponse:
        """One request; the connection is reopened once if the server had closed it (every call of the site
        API may be repeated: reports and uploads are idempotent)."""
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT, **(headers or {})}
        for attempt in (1, 2):
            connection = self._connect()
            try:
                if hasattr(body, "seek"):
                    body.seek(0)
                connection.request(method, self.prefix + API + path, body=body, headers=headers)
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 2:
                    raise Unreachable(f"the platform closed the connection ({exc})") from None
                continue
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise Unreachable(f"the platform cannot be reached ({exc})") from None
            if response.getheader("Connection", "").lower() == "close" or response.version < 11:
                response.will_close = True
            return response
        raise AssertionError("unreachable")

    def _answer(self, response: http.client.HTTPResponse) -> Any:
        """The JSON of a 2xx answer; Unreachable for 5xx/429, Refused for another 4xx."""
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Unreachable(f"the answer was cut off ({exc})") from None
        if response.will_close:
            self.close()
        if response.status >= 500 or response.status == 429:
            raise Unreachable(f"the platform answered {response.status}: {_detail(data)}")
        if response.status >= 400:
            raise Refused(response.status, _detail(data))
        return json.loads(data) if data else None

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        """A JSON call of the site API (``path`` under /api/v1/sites)."""
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return self._answer(self._send(method, path, body, headers))

    def download(self, path: str, target: Path, sha256: str) -> int:
        """Fetch a file into ``target``, resuming a partial one with HTTP Range; returns the bytes fetched now.
        The file's sha256 is checked at the end (ValueError and the partial file removed when it differs)."""
        digest, have = hashlib.sha256(), 0
        if target.exists():
            with open(target, "rb") as fh:
                while n := fh.readinto(self._buffer):
                    digest.update(memoryview(self._buffer)[:n])
                    have += n
        response = self._send("GET", path, headers={"Range": f"bytes={have}-"} if have else {})
        if response.status == 416:  # the partial file is already whole (or longer): start again
            response.read()
            target.unlink()
            return self.download(path, target, sha256)
        if response.status not in (200, 206):
            self._answer(response)
            raise Unreachable(f"unexpected answer {response.status} to a download")
        if response.status == 200 and have:
            digest, have = hashlib.sha256(), 0  # the server sent the whole file
        fetched = self._stream(response, target, digest, append=have > 0)
        if digest.hexdigest() != sha256:
            target.unlink(missing_ok=True)
            raise ValueError(f"the file fetched for sha256 {sha256} has sha256 {digest.hexdigest()}")
        return fetched

    def _stream(self, response: http.client.HTTPResponse, target: Path, digest, append: bool) -> int:
        view, fetched = memoryview(self._buffer), 0
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o600)
        try:
            while True:
                try:
                    n = response.readinto(view)
                except (OSError, http.client.HTTPException) as exc:
                    self.close()
                    raise Unreachable(f"the download was cut off after {fetched:,} bytes ({exc})") from None
                if not n:
                    break
                digest.update(view[:n])
                written = 0
                while written < n:
                    written += os.write(descriptor, view[written:n])
                fetched += n
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if response.will_close:
            self.close()
        return fetched

    def upload(self, path: str, source: Path, sha256: str) -> Any:
        """PUT a file (streamed) with its sha256."""
        with open(source, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size), SHA256_HEADER: sha256}
            return self._answer(self._send("PUT", path, fh, headers))


def lease_path(evaluation_id: int, attempt: int, tail: str = "") -> str:
    """The path of one lease's route under /api/v1/sites."""
    return f"/leases/{int(evaluation_id)}/{int(attempt)}{tail}"


def output_path(evaluation_id: int, attempt: int, relative: str) -> str:
    return lease_path(evaluation_id, attempt, "/outputs/" + quote(relative))


def _detail(data: bytes) -> str:
    try:
        found = json.loads(data)
        return str(found.get("detail") or found)[:500] if isinstance(found, dict) else str(found)[:500]
    except ValueError:
        return data[:200].decode("utf-8", errors="replace")
