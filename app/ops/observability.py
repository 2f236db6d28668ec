"""Structured logs (JSON lines), request ids, and the per-process request-latency histogram.

`LAGC_LOG_FORMAT=json` (the default in production) makes the web process and the scheduler write one JSON
object per line: time, level, logger, message and, inside a request, request id, method, path, status,
duration_ms and user id. The request id comes from `X-Request-ID` (when it looks like an id) or is made
here, and is echoed in the response.

Latency: a `prometheus_client` histogram in multiprocess mode. Each gunicorn worker writes its observations to
its own memory-mapped file in the metrics folder (`PROMETHEUS_MULTIPROC_DIR`, `Settings.metrics_dir`), and
`/metrics`, on whichever worker the scrape lands, adds up every worker's (`app.ops.metrics`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from flask import Flask, g, has_request_context, request
from prometheus_client import Histogram, values

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_metrics: dict[str, object] = {}  # the process's metrics folder and latency histogram, made once
request_log = logging.getLogger("lagc.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per record; request fields come from the record or the current request."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            data.update(request_id=g.request_id, method=request.method, path=request.path)
        data.update({key: getattr(record, key) for key in FIELDS if hasattr(record, key)})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send every log record to stderr, as JSON lines or as text; idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "lagc", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.lagc = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)


class _RequestIds:
    """New request ids: 32 hex digits, a random half made once per process (again in a forked child) and a
    counter. Unique like a UUID4's without its cost (`os.urandom` and a UUID object on every request, which
    the public pages' fast path cannot afford); an id names a request, it is no secret."""

    def __init__(self):
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.prefix, self.counter = os.urandom(8).hex(), itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


new_request_id = _RequestIds()


def request_id_for(given: str) -> str:
    """The request's id: the client's `X-Request-ID` when it looks like an id, else a new one."""
    return given if given and REQUEST_ID.match(given) else new_request_id()


def _start_request() -> None:
    """First before_request: the request id and the start time."""
    g.request_id = request_id_for(request.headers.get("X-Request-ID", ""))
    g.request_started = time.perf_counter()


def _finish_request(response):
    """after_request: echo the request id, count the latency, write the request's log line."""
    started = g.get("request_started")
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    response.headers["X-Request-ID"] = g.request_id
    from flask import current_app
    from flask_login import current_user

    settings = current_app.config["LAGC"]
    user_id = None
    if settings.log_format == "json":  # only then: after a 500 the user's row may no longer be readable
        user_id = current_user.get_id() if current_user and current_user.is_authenticated else None
    record_request(
        settings,
        g.request_id,
        request.method,
        request.path,
        response.status_code,
        elapsed,
        int(user_id) if user_id else None,
    )
    return response


def record_request(
    settings, request_id: str, method: str, path: str, status: int, elapsed: float, user_id: int | None = None
) -> None:
    """Count a request's latency and write its log line (JSON logs)."""
    _latency().observe(elapsed)
    log_request(settings, request_id, method, path, status, elapsed, user_id)


def observe_latencies(elapsed: list[float]) -> None:
    """Count several requests' latencies at once (`app.ops.public_cache` adds its answers in batches)."""
    histogram = _latency()
    for seconds in elapsed:
        histogram.observe(seconds)


def log_request(
    settings, request_id: str, method: str, path: str, status: int, elapsed: float, user_id: int | None = None
) -> None:
    """Write a request's log line when logs are JSON; also for the pages `app.ops.public_cache` answers
    without Flask."""
    if settings.log_format == "json":
        request_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "user_id": user_id,
            },
        )


def enable_multiprocess(folder: Path) -> Path:
    """Put prometheus_client in multiprocess mode, its files in `folder`; returns the folder in use. The first
    app made in a process decides (prometheus_client keeps one folder per process, named by the environment
    variable it reads when it opens a file; the value comes from `Settings.metrics_dir`)."""
    if "folder" not in _metrics:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        if not getattr(values.ValueClass, "_multiprocess", False):  # imported before the variable was set
            values.ValueClass = values.MultiProcessValue()
        _metrics["folder"] = folder
    return _metrics["folder"]  # type: ignore[return-value]


def metrics_folder() -> Optional[Path]:
    """The folder this process's metrics are written to, once `enable_multiprocess` ran."""
    return _metrics.get("folder")  # type: ignore[return-value]


def clear_metrics_folder(folder: Path) -> None:
    """Delete the metric files a previous run left (the web server calls this before its workers start,
    as prometheus_client's multiprocess mode asks)."""
    for path in Path(folder).glob("*.db"):
        path.unlink(missing_ok=True)


def _latency() -> Histogram:
    """This process's request-latency histogram, made on the first request (not by CLI commands)."""
    if "latency" not in _metrics:
        _metrics["latency"] = Histogram(
            "lagc_http_request_duration_seconds", "Web request latency.", buckets=LATENCY_BUCKETS, registry=None
        )
    return _metrics["latency"]  # type: ignore[return-value]


def init_observability(app: Flask) -> None:
    """Install the request hooks (the request-id hook first of all) and the log format."""
    settings = app.config["LAGC"]
    enable_multiprocess(settings.metrics_dir)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    if settings.log_format == "json":
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)
        configure_logging("json")
