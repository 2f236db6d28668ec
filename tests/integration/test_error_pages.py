"""The error pages themselves never fail: a 500 while signed in still shows the styled page (the session that
failed is closed by then, so the page must not read the database through it)."""

from __future__ import annotations

import pytest

from tests.helpers import bearer, sign_in


@pytest.fixture
def failing_app(app):
    """The app with a test-only page that fails half-way through a database transaction, as a bug would."""
    from app.accounts.models import User
    from app.db import get_session
    from app.security import signed_in

    @signed_in
    def broken():
        session = get_session()
        session.get(User, 1)  # the failure happens with the session in use
        raise RuntimeError("a bug in a view")

    app.add_url_rule("/test-only/broken", "test_broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handlers answer
    return app


def test_a_500_while_signed_in_shows_the_styled_error_page_with_the_navigation(failing_app, make_user):
    client = failing_app.test_client()
    make_user("ada@aurora.fi")
    assert sign_in(client, "ada@aurora.fi").status_code == 302
    response = client.get("/test-only/broken")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html and "Error 500" in html
    assert "ada@aurora.fi" in html and "Sign out" in html  # still signed in, and the page says so
    assert "Traceback" not in html and "RuntimeError" not in html


def test_a_500_on_the_api_is_a_problem_document(failing_app, make_user, db):
    failing_app.add_url_rule("/api/v1/test-only/broken", "api.test_broken", failing_app.view_functions["test_broken"])
    client = failing_app.test_client()
    response = client.get("/api/v1/test-only/broken", headers=bearer(client, make_user, db, "ada@aurora.fi"))
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "Something went wrong on our side; it has been logged."


def test_a_404_while_signed_in_keeps_the_notification_count(app, client, make_user, db):
    from app.notifications.models import Notification

    user_id = make_user("ada@aurora.fi")
    with db() as session:
        session.add(
            Notification(
                recipient_id=user_id,
                kind="evaluation",
                subject="Your evaluation finished",
                body="Scores are in.",
                dedupe_key=f"test:{user_id}",
            )
        )
    sign_in(client, "ada@aurora.fi")
    response = client.get("/no-such-page")
    assert response.status_code == 404 and 'aria-label="1 unread"' in response.get_data(as_text=True)
