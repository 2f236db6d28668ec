"""Pages, error pages, who may use what, and the settings' refusals."""

from __future__ import annotations

import pytest

from app import create_app
from app.settings import DEFAULT_SECRET, Settings, SettingsError
from app.security import access_of


def test_every_route_declares_who_may_use_it(app):
    with app.test_request_context():
        undeclared = sorted(rule.endpoint for rule in app.url_map.iter_rules() if access_of(rule.endpoint) is None)
    assert undeclared == []


def test_the_home_page_shows_the_challenge_with_its_phases(client, closed_challenge):
    page = client.get("/").get_data(as_text=True)
    assert "Large AI Grand Challenge 2024" in page
    assert "Registration and eligibility" in page and "16 Nov 2023" in page


def test_the_site_has_an_icon_where_browsers_look_for_it(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon" and icon.data[:4] == b"\0\0\1\0"
    assert "max-age" in icon.headers["Cache-Control"]
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert client.get("/static/favicon.svg").mimetype == "image/svg+xml"


def test_the_challenge_page_shows_the_prize(client, challenge):
    page = client.get(f"/c/{challenge}").get_data(as_text=True)
    assert "EUR 1,000,000" in page and "EUR 250,000" in page and "2,000,000 GPU hours" in page
    assert "LUMI: 4,000,000 GPU hours" in page


def test_the_leaderboard_page_is_public_and_says_it_is_empty(client, challenge, db):
    from leaderboard.services import refresh_all

    with db() as session:
        refresh_all(session)  # the scheduler's step: a request never computes the board
    response = client.get("/leaderboard")
    assert response.status_code == 200
    assert "No evaluated entries yet" in response.get_data(as_text=True)
    assert client.get("/leaderboard?challenge=unknown").status_code == 404


def test_an_unknown_page_gets_a_404_page_without_a_trace(client):
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Not Found" in page and "Traceback" not in page


def test_an_unexpected_error_shows_a_plain_500_page(app, client):
    from app.security import public

    @public
    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "secret internals" not in page and "Traceback" not in page


def test_production_refuses_the_default_secret(tmp_path):
    settings = Settings(env="production", secret_key=DEFAULT_SECRET, instance_dir=tmp_path)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(settings)


def test_settings_come_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://x@h/db",
            "PORT": "9001",
            "LAGC_INSTANCE_DIR": str(tmp_path),
            "LAGC_ENV": "production",
        }
    )
    assert settings.database_url.startswith("postgresql") and settings.port == 9001
    assert settings.storage_dir == tmp_path / "storage" and settings.secure_cookies
    with pytest.raises(SettingsError):
        Settings.from_env({"LAGC_ENV": "staging"})
    with pytest.raises(SettingsError):
        Settings.from_env({"PORT": "eighty"})


def test_the_demo_loads_twice_without_duplicates(app, db):
    from sqlmodel import select

    from app.challenges.services import get_challenge
    from app.demo import DEMO_SLUG, load_demo
    from app.teams.models import Team

    with db() as session:
        load_demo(session, app.config["LAGC"])
    with db() as session:
        accounts = load_demo(session, app.config["LAGC"])
        demo = get_challenge(session, DEMO_SLUG)
        assert len(session.exec(select(Team).where(Team.challenge_id == demo.id)).all()) == 3
    assert {role for _, role, _ in accounts} == {"organiser", "judge", "entrant"}
    header = demo.config_text.split("[challenge]")[0]
    assert header.startswith("# The demo challenge") and "Confirmed by the public record" not in header


def test_the_demo_shows_which_submission_counts(app, db, client):
    """One demo team's newest checkpoint has no tokenizer (its evaluation fails; its scored one still counts),
    and the synthetic board has teams with a failed newer submission, a chosen older one, and one evaluating."""
    from sqlmodel import select

    from evaluation.demo import BROKEN_LABEL, DEMO_LABEL
    from app.checkpoints.models import Submission, SubmissionStatus
    from app.demo import load_demo
    from leaderboard.services import refresh_all

    with db() as session:
        load_demo(session, app.config["LAGC"])
    with db() as session:
        by_label = {}
        for row in session.exec(select(Submission).where(Submission.label.in_((DEMO_LABEL, BROKEN_LABEL)))):
            by_label.setdefault(row.label, []).append(row)
        [broken] = by_label[BROKEN_LABEL]
        assert broken.status == SubmissionStatus.accepted and "tokenizer" in str(broken.findings["warnings"])
        scored_first = next(s for s in by_label[DEMO_LABEL] if s.team_id == broken.team_id)
        assert scored_first.accepted_at < broken.accepted_at
        refresh_all(session)
    rows = client.get("/api/v1/leaderboard?challenge=synthetic").get_json()["rows"]
    assert {row["newer"] for row in rows} == {None, "failed", "evaluating"}
    assert any(row["chosen"] for row in rows) and all(row["score"] is not None for row in rows)
    page = client.get("/leaderboard?challenge=synthetic").get_data(as_text=True)
    assert "a submission whose evaluation failed never replaces a scored one" in page


def test_a_demo_older_than_its_submission_window_is_moved_to_today(app, db):
    from datetime import timedelta

    from app.challenges.services import get_challenge, load_config_text, phase_gate
    from app.db import utcnow
    from app.demo import DEMO_SLUG, demo_config_text, load_demo

    with db() as session:  # an instance whose demo was built 90 days ago: its month of submissions is over
        load_config_text(session, demo_config_text(utcnow() - timedelta(days=90)))
        assert not phase_gate(get_challenge(session, DEMO_SLUG), "submit").allowed
    with db() as session:
        load_demo(session, app.config["LAGC"])
        assert phase_gate(get_challenge(session, DEMO_SLUG), "submit").allowed


def test_every_response_carries_the_security_headers(client):
    for path in ("/", "/signin", "/api/v1/challenges", "/no/such/page"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" in client.get("/", base_url="https://localhost").headers


def test_no_directive_of_the_content_security_policy_allows_inline_code_or_styles(client, challenge):
    for path in ("/", "/leaderboard", f"/c/{challenge}", "/signin", "/api/v1/challenges", "/no/such/page"):
        policy = client.get(path).headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["style-src"] == "'self'" and directives["script-src"] == "'self'"
        assert not [name for name, sources in directives.items() if "'unsafe-inline'" in sources], policy
        assert "'unsafe-eval'" not in policy


def test_behind_a_tls_proxy_the_forwarded_scheme_turns_on_hsts(settings):
    app = create_app(settings.with_overrides(proxy_hops=1))
    headers = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"}).headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    plain = create_app(settings).test_client().get("/", headers={"X-Forwarded-Proto": "https"}).headers
    assert "Strict-Transport-Security" not in plain  # without a configured proxy the header is not trusted


def test_the_session_cookie_is_httponly_and_samesite(client, make_user):
    from tests.helpers import sign_in

    make_user("eve@example.eu")
    cookie = sign_in(client, "eve@example.eu").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_health_answers_and_readiness_needs_a_scheduler_heartbeat(client, db):
    from datetime import timedelta

    from app.db import utcnow
    from app.ops.models import SchedulerLease

    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["scheduler"] == "never started"
    now = utcnow()
    with db() as session:
        session.add(
            SchedulerLease(
                name="scheduler",
                holder="test",
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + timedelta(seconds=30),
            )
        )
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["checks"] == {
        "database": "ok",
        "scheduler": "ok",
        "scheduler_steps": "ok",
    }
