"""Structured logs (JSON lines), request ids, and the per-process request-latency histogram.

`LAGC_LOG_FORMAT=json` (the default in production) makes the web process and the scheduler write one JSON
object per line: time, level, logger, message and, inside a request, request id, method, path, status,
duration_ms and user id. The request id comes from `X-Request-ID` (when it looks like an id) or is made
here, and is echoed in the response.

Latency: each gunicorn worker keeps its own histogram and writes it to `<instance>/metrics/<worker>.json`
at most every few seconds; `/metrics` reads every worker's file and exposes each with a `worker` label, so a
scrape that lands on any worker sees them all (Prometheus sums them with `sum without (worker)`).
"""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, g, has_request_context, request

from app.ops.exposition import Histogram

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")
FLUSH_SECONDS = 5.0
WORKER = f"{socket.gethostname()}:{os.getpid()}"
LATENCY = Histogram()
_flushed = [0.0]
request_log = logging.getLogger("lagc.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per record; request fields come from the record or the current request."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
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
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def request_id_for(given: str) -> str:
    """The request's id: the client's `X-Request-ID` when it looks like an id, else a new one."""
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


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
    record_request(settings, g.request_id, request.method, request.path, response.status_code, elapsed,
                   int(user_id) if user_id else None)
    return response


def record_request(settings, request_id: str, method: str, path: str, status: int, elapsed: float,
                   user_id: int | None = None) -> None:
    """Count a request's latency and write its log line (JSON logs); also for the pages
    `app.ops.public_cache` answers without Flask."""
    LATENCY.observe(elapsed)
    _flush(settings.instance_dir)
    if settings.log_format == "json":
        request_log.info("%s %s %s", method, path, status,
                         extra={"request_id": request_id, "method": method, "path": path, "status": status,
                                "duration_ms": round(elapsed * 1000, 2), "user_id": user_id})


def metrics_dir(instance_dir: Path) -> Path:
    return Path(instance_dir) / "metrics"


def _flush(instance_dir: Path, force: bool = False) -> None:
    """Write this worker's histogram to its file (atomically), at most every FLUSH_SECONDS."""
    now = time.monotonic()
    if not force and now - _flushed[0] < FLUSH_SECONDS:
        return
    _flushed[0] = now
    folder = metrics_dir(instance_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{WORKER.replace(':', '-')}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps({"worker": WORKER, **LATENCY.snapshot()}))
        os.replace(temporary, target)
    except OSError:  # metrics must never break a request
        logging.getLogger("lagc.metrics").warning("could not write %s", folder, exc_info=True)


def worker_histograms(instance_dir: Path, max_age_seconds: float = 86400) -> dict[str, dict]:
    """Every worker's latest histogram (this worker's from memory); files of long-gone workers are removed."""
    _flush(instance_dir, force=True)
    found: dict[str, dict] = {}
    for path in sorted(metrics_dir(instance_dir).glob("*.json")):
        try:
            if time.time() - path.stat().st_mtime > max_age_seconds:
                path.unlink(missing_ok=True)
                continue
            data = json.loads(path.read_text())
            found[data["worker"]] = data
        except (OSError, ValueError, KeyError):
            continue
    found[WORKER] = {"worker": WORKER, **LATENCY.snapshot()}
    return found


def init_observability(app: Flask) -> None:
    """Install the request hooks (the request-id hook first of all) and the log format."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    settings = app.config["LAGC"]
    if settings.log_format == "json":
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)
        configure_logging("json")
