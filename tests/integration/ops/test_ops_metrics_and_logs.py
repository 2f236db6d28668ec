"""/metrics in the Prometheus format, request ids, and JSON-lines logs."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.accounts.models import Role
from tests.helpers import bearer


@pytest.fixture
def metrics_app(settings):
    from app import create_app

    application = create_app(settings.with_overrides(metrics_token="prometheus-scrape-token"))
    yield application
    application.extensions["lagc_engine"].dispose()


def test_metrics_refuse_a_caller_without_a_token(metrics_app):
    response = metrics_app.test_client().get("/metrics")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_prometheus_reads_the_metrics_with_the_configured_token(metrics_app):
    client = metrics_app.test_client()
    client.get("/healthz")
    response = client.get("/metrics", headers={"Authorization": "Bearer prometheus-scrape-token"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "# TYPE lagc_evaluation_queue_depth gauge" in text and "lagc_evaluation_queue_depth 0" in text
    assert 'lagc_evaluations{state="failed"} 0' in text and 'lagc_submissions{status="accepted"} 0' in text
    assert "# TYPE lagc_http_request_duration_seconds histogram" in text
    assert 'lagc_http_request_duration_seconds_bucket{le="+Inf"}' in text


def requests_counted(text: str) -> float:
    return float(re.search(r"^lagc_http_request_duration_seconds_count (\S+)$", text, re.M).group(1))


def test_the_latency_of_every_web_process_is_added_up_whichever_one_is_scraped(metrics_app, settings):
    from app.ops.observability import metrics_folder

    client, token = metrics_app.test_client(), {"Authorization": "Bearer prometheus-scrape-token"}
    before = requests_counted(client.get("/metrics", headers=token).get_data(as_text=True))
    # Another worker: its own process, writing to the same metrics folder, serves three requests and exits.
    other = (
        "import sys; from app import create_app; from app.settings import Settings\n"
        "client = create_app(Settings.from_env()).test_client()\n"
        "assert all(client.get('/healthz').status_code == 200 for _ in range(3))\n"
    )
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_folder()),
        "LAGC_ENV": "testing",
        "LAGC_INSTANCE_DIR": str(settings.instance_dir / "other"),
        "DATABASE_URL": settings.database_url,
    }
    subprocess.run([sys.executable, "-c", other], env=env, cwd=Path(__file__).parents[3], check=True, timeout=120)
    after = requests_counted(client.get("/metrics", headers=token).get_data(as_text=True))
    assert after == before + 1 + 3  # the first scrape itself, then the other process's three


def test_an_organiser_reads_the_metrics_with_their_api_token_and_an_entrant_cannot(metrics_app, make_user, db):
    client = metrics_app.test_client()
    organiser = bearer(client, make_user, db, "org@example.org", Role.organiser)
    entrant = bearer(client, make_user, db, "ann@example.org", Role.entrant)
    assert client.get("/metrics", headers=organiser).status_code == 200
    assert client.get("/metrics", headers=entrant).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_scheduler_cycle_time_is_exposed_once_it_ran(metrics_app, settings):
    from datetime import timedelta

    from evaluation.scheduler import acquire_or_renew

    engine = metrics_app.extensions["lagc_engine"]
    acquire_or_renew(engine, "test:1", timedelta(seconds=30))  # the first cycle takes the lease
    acquire_or_renew(engine, "test:1", timedelta(seconds=30), cycle_ms=42.5)  # the next one reports its time
    text = (
        metrics_app.test_client()
        .get("/metrics", headers={"Authorization": "Bearer prometheus-scrape-token"})
        .get_data(as_text=True)
    )
    assert "lagc_scheduler_last_cycle_seconds 0.0425" in text and "milliseconds" not in text


def test_a_request_id_is_echoed_or_made_up(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"


def test_json_logs_carry_the_request_fields(settings, caplog):
    from app import create_app
    from app.ops.observability import JsonFormatter

    application = create_app(settings.with_overrides(log_format="json"))
    try:
        with caplog.at_level(logging.INFO, logger="lagc.request"):
            application.test_client().get("/healthz", headers={"X-Request-ID": "req-42"})
        (line,) = [r for r in caplog.records if r.name == "lagc.request"]
        data = json.loads(JsonFormatter().format(line))
        assert data["level"] == "INFO" and data["logger"] == "lagc.request" and data["status"] == 200
        assert data["method"] == "GET" and data["path"] == "/healthz" and data["user_id"] is None
        assert isinstance(data["duration_ms"], float) and "time" in data
    finally:
        application.extensions["lagc_engine"].dispose()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "lagc", False)]:
            root.removeHandler(handler)


def test_json_log_records_inside_a_request_carry_its_request_id(app):
    from app.ops.observability import JsonFormatter

    with app.test_request_context("/x", headers={"X-Request-ID": "r-1"}):
        from app.ops.observability import _start_request

        _start_request()
        record = logging.LogRecord("lagc.test", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
        data = json.loads(JsonFormatter().format(record))
    assert data == {**data, "message": "hello world", "request_id": "r-1", "path": "/x", "level": "WARNING"}
