"""A WSGI fast path in front of Flask: public pages served to anonymous visitors from memory.

The leaderboard, its views, the home and challenge pages and the public exports are the same for every
anonymous visitor, and Flask marks them so (`app.ops.headers.share_publicly`: `Cache-Control: public` and an
ETag). Each web worker keeps the pages Flask answered that way, by scheme, host, path and query string, and
answers the next anonymous request for the same URL itself: the same status, headers and body Flask sent
(its own `X-Request-ID`), or a 304 when the visitor already holds the page (`app.ops.headers.still_valid`,
the rule Flask applies). Everything else goes to Flask unchanged:

- any request that is not a GET or HEAD, or carries a `Cookie` or `Authorization` header (signed in, holding
  a session or a token: their pages are their own);
- a page Flask did not mark public (signed-in pages, the organisers' board, errors, the board being
  prepared), or that sets a cookie, varies on anything but the cookie, or is larger than an eighth of the
  memory budget;
- a conditional request for a page this worker does not hold.

A kept page is dropped when `app.ops.changes.generation` moves (the scheduler announced new snapshots, or
this process committed a change) and after `TTL` seconds in any case (phases open and close with time, and
a change nobody announced must show within a second). The fast path only reads: it never writes anything.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Optional

from werkzeug.http import parse_date, remove_entity_headers

from app.ops import changes
from app.ops.headers import still_valid
from app.ops.observability import log_request, observe_latencies, request_id_for

TTL = 1.0  # seconds a kept page is served before Flask renders it again
BATCH = 64  # fast-path answers whose latencies are added to the histogram together ...
FLUSH_EVERY = 1.0  # ... or after this many seconds, whichever comes first
NOT_MODIFIED = "304 NOT MODIFIED"  # werkzeug's status line for 304
KEPT_VARY = {"", "cookie"}  # a page varying on more than the cookie (which kept requests never send) is not kept

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


@dataclass(frozen=True)
class Page:
    """A kept response: status line, headers as Flask sent them (``request_id_at`` is the index of their
    X-Request-ID, to be replaced by each request's own, or None), the same for a 304, and the validators."""

    status: str
    headers: list
    not_modified_headers: list
    request_id_at: Optional[int]
    not_modified_request_id_at: Optional[int]
    body: bytes
    etag: str
    last_modified: Optional[datetime]
    kept_at: float


class PublicPageCache:
    """WSGI middleware answering anonymous GET/HEAD requests for public pages from memory."""

    def __init__(self, app: WsgiApp, settings, budget_bytes: int):
        self.app, self.settings, self.budget = app, settings, budget_bytes
        self.signal = changes.signal_path(settings.instance_dir)
        self.generation = changes.Watch(self.signal)
        self.largest = budget_bytes // 8
        self.pages: dict[tuple, Page] = {}
        self.used = 0
        self.seen: tuple = ()
        self.hits = self.kept = 0  # counters for the tests and the benchmark
        self.latencies: list[float] = []  # answers not yet in the latency histogram
        self.log_json = settings.log_format == "json"
        self.flushed = time.perf_counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if (method != "GET" and method != "HEAD") or "HTTP_COOKIE" in environ or "HTTP_AUTHORIZATION" in environ:
            if self.latencies:
                self.flush_latencies()
            return self.app(environ, start_response)
        started = time.perf_counter()
        key = (
            environ["wsgi.url_scheme"],
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
        generation = self.generation()
        if generation != self.seen:
            self._forget(generation)
        page = self.pages.get(key)
        if page is not None and time.monotonic() - page.kept_at < TTL:
            return self._answer(page, environ, start_response, started)
        if self.latencies:
            self.flush_latencies()
        if method == "HEAD" or "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
            return self.app(environ, start_response)
        return self._keep(key, generation, environ, start_response)

    def _answer(self, page: Page, environ: dict, start_response: Callable, started: float) -> Iterable[bytes]:
        """The kept page (or its 304), with this request's id, counted like any request. This runs for nearly
        every public request: it does as little as it can (`bench/leaderboard_load.py` measures it)."""
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) and still_valid(
            page.etag, page.last_modified, environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MODIFIED_SINCE")
        ):
            status, headers, at, body = NOT_MODIFIED, page.not_modified_headers, page.not_modified_request_id_at, b""
        else:
            status, headers, at = page.status, page.headers, page.request_id_at
            body = b"" if environ["REQUEST_METHOD"] == "HEAD" else page.body
        if at is not None:
            headers = headers.copy()
            headers[at] = ("X-Request-ID", request_id)
        start_response(status, headers)
        self.hits += 1
        finished = time.perf_counter()
        latencies = self.latencies
        latencies.append(finished - started)
        if len(latencies) >= BATCH or finished - self.flushed >= FLUSH_EVERY:
            self.flush_latencies()
        if self.log_json:
            log_request(
                self.settings,
                request_id,
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                int(status[:3]),
                finished - started,
            )
        return [body]

    def flush_latencies(self) -> None:
        """Add the answers' latencies kept so far to the request-latency histogram: one answer costs a list
        append, and the histogram (a memory-mapped file per worker, `app.ops.observability`) is written once
        per batch. So `/metrics` counts a fast-path answer at most ``BATCH`` answers or ``FLUSH_EVERY``
        seconds late, or at the worker's next request that Flask answers."""
        pending, self.latencies = self.latencies, []
        self.flushed = time.perf_counter()
        observe_latencies(pending)

    def _keep(self, key: tuple, generation: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Let Flask answer, and keep its answer when it is a public page."""
        sent: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            sent["status"], sent["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body_iter = self.app(environ, capture)
        if not self._keepable(sent.get("status", ""), sent.get("headers", ())):
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        page = _page(sent["status"], sent["headers"], body)
        with self._lock:
            if generation == self.seen and page is not None and len(body) <= self.largest:
                self._store(key, page)
        return [body]

    def _keepable(self, status: str, headers: Iterable[tuple[str, str]]) -> bool:
        """A 200 marked public, with an ETag and a length, setting no cookie, varying at most on the cookie."""
        if not status.startswith("200"):
            return False
        found = {name.lower(): value for name, value in headers}
        if "set-cookie" in found or "etag" not in found or not found.get("cache-control", "").startswith("public"):
            return False
        length = found.get("content-length", "")
        varies = {part.strip().lower() for part in found.get("vary", "").split(",")}
        return length.isdigit() and int(length) <= self.largest and varies <= KEPT_VARY

    def _store(self, key: tuple, page: Page) -> None:
        """Keep ``page``, dropping the oldest pages while over the budget (caller holds the lock)."""
        old = self.pages.pop(key, None)
        if old is not None:
            self.used -= _size(old)
        self.pages[key] = page
        self.used += _size(page)
        self.kept += 1
        while self.used > self.budget and self.pages:
            self.used -= _size(self.pages.pop(next(iter(self.pages))))

    def _forget(self, generation: tuple) -> None:
        """Drop every kept page: what public pages show has changed."""
        with self._lock:
            self.pages, self.used, self.seen = {}, 0, generation


def _page(status: str, headers: list, body: bytes) -> Optional[Page]:
    """A kept page from Flask's answer (None when its validators cannot be read)."""
    found = {name.lower(): value for name, value in headers if name.lower() != "x-request-id"}
    etag = found["etag"].strip()
    if etag.startswith("W/") or len(etag) < 2 or not etag.startswith('"') or not etag.endswith('"'):
        return None
    unmodified = list(headers)
    remove_entity_headers(unmodified)  # what werkzeug leaves on a 304
    modified = parse_date(found["last-modified"]) if "last-modified" in found else None
    return Page(
        status,
        list(headers),
        unmodified,
        _request_id_at(headers),
        _request_id_at(unmodified),
        body,
        etag[1:-1],
        modified,
        time.monotonic(),
    )


def _request_id_at(headers: list) -> Optional[int]:
    return next((i for i, (name, _) in enumerate(headers) if name.lower() == "x-request-id"), None)


def _size(page: Page) -> int:
    return len(page.body) + 64 * len(page.headers)


def install(app, settings) -> None:
    """Put the fast path in front of ``app`` (a Flask app) when its memory budget is above zero; the change
    signal is watched either way (the board's head cache is keyed on it)."""
    changes.watch_commits()
    changes.ensure_signal(settings.instance_dir)
    budget = int(settings.public_cache_mb * 1024 * 1024)
    if budget > 0:
        app.wsgi_app = PublicPageCache(app.wsgi_app, settings, budget)


def fast_path(app) -> Optional[PublicPageCache]:
    """The fast path installed on ``app`` (below any proxy middleware), or None."""
    layer = app.wsgi_app
    while layer is not None and not isinstance(layer, PublicPageCache):
        layer = getattr(layer, "app", None)
    return layer
