"""Audit events become notifications; the scheduler sends them through a real SMTP server."""

from datetime import timedelta

from sqlmodel import select

from app.audit.services import record
from app.db import utcnow
from app.notifications.fanout import process_audit_log
from app.notifications.models import Notification
from app.notifications.sender import NO_SERVER, send_due


def run_steps(db, settings, now=None):
    with db() as session:
        process_audit_log(session, now)
    with db() as session:
        return send_due(session, settings, now)


def notifications(db):
    with db() as session:
        return session.exec(select(Notification).order_by(Notification.id)).all()


def test_an_eligibility_decision_reaches_every_team_member_by_email(db, settings, team, smtp_server):
    host, port, inbox = smtp_server
    team_id, challenge_id, _ = team
    with db() as session:
        record(
            session,
            "eligibility.overridden",
            "team",
            team_id,
            challenge_id=challenge_id,
            status="eligible",
            justification="The partner's stake is below a quarter.",
        )
    sent = run_steps(db, settings.with_overrides(smtp_host=host, smtp_port=port))
    assert sent == 2
    inbox.wait_for(2)
    assert {m["To"] for m in inbox.messages} == {"ann@example.org", "bob@example.org"}
    message = inbox.to("ann@example.org")[0]
    assert message["Subject"] == "Eligibility decision: eligible"
    assert "below a quarter" in message.get_content()
    assert all(n.email_state == "sent" and n.attempts == 1 for n in notifications(db))


def test_an_evaluation_event_finds_the_team_through_its_details(db, settings, team, smtp_server):
    host, port, inbox = smtp_server
    team_id, challenge_id, _ = team
    with db() as session:
        record(
            session,
            "evaluation.failed",
            "evaluation",
            12345,
            challenge_id=challenge_id,
            team_id=team_id,
            reason="the job ran out of memory",
        )
    run_steps(db, settings.with_overrides(smtp_host=host, smtp_port=port))
    assert "ran out of memory" in inbox.wait_for(2)[0].get_content()


def test_the_judge_is_told_of_an_assignment_and_nobody_else(db, settings, team, make_user, smtp_server):
    from app.accounts.models import Role

    host, port, inbox = smtp_server
    judge = make_user("judge@example.org", Role.judge)
    with db() as session:
        record(session, "judging.assigned", "team", team[0], challenge_id=team[1], judge_id=judge)
    run_steps(db, settings.with_overrides(smtp_host=host, smtp_port=port))
    assert [m["To"] for m in inbox.wait_for(1)] == ["judge@example.org"]


def test_each_event_is_notified_once_however_often_the_step_runs(db, settings, team):
    with db() as session:
        record(session, "submission.accepted", "team", team[0], challenge_id=team[1])
    for _ in range(3):
        run_steps(db, settings)
    assert len(notifications(db)) == 2


def test_without_an_smtp_server_emails_stay_queued_with_the_reason(db, settings, team, client):
    from tests.helpers import sign_in

    with db() as session:
        record(
            session,
            "release.obligation_opened",
            "release_obligation",
            1,
            challenge_id=team[1],
            team_id=team[0],
            deadline="2025-06-26T08:00:00+00:00",
        )
    assert run_steps(db, settings) == 0
    assert all(n.email_state == "queued" and n.last_error == NO_SERVER for n in notifications(db))
    sign_in(client, "ann@example.org")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Release obligation opened" in page and NO_SERVER in page


def test_a_failing_smtp_server_is_retried_with_backoff_until_it_gives_up(db, settings, team, client):
    from app.notifications.rules import MAX_ATTEMPTS
    from tests.helpers import free_port, sign_in, submit

    broken = settings.with_overrides(smtp_host="127.0.0.1", smtp_port=free_port())  # nothing listens there
    sign_in(client, "ann@example.org")
    response = submit(client, "/account/notifications", {"email-evaluation": "on", "dashboard-evaluation": "on"})
    assert response.status_code == 302  # a web action is never held up by mail
    with db() as session:
        record(session, "evaluation.finished", "evaluation", 5, challenge_id=team[1], team_id=team[0])
    now = utcnow()
    run_steps(db, broken, now)
    first = notifications(db)[0]
    assert first.attempts == 1 and first.email_state == "queued" and "Refused" in first.last_error
    assert first.next_attempt_at == now + timedelta(minutes=1)
    run_steps(db, broken, now + timedelta(seconds=30))  # not due yet: no new attempt
    assert notifications(db)[0].attempts == 1
    for _ in range(MAX_ATTEMPTS):
        now = now + timedelta(hours=6)
        run_steps(db, broken, now)
    gave_up = notifications(db)[0]
    assert gave_up.attempts == MAX_ATTEMPTS and gave_up.email_state == "failed"
    assert "Evaluation #5 finished" in client.get("/notifications").get_data(as_text=True)


def test_an_email_retried_after_a_failure_arrives_once_the_server_is_back(db, settings, team, smtp_server):
    from tests.helpers import free_port

    host, port, inbox = smtp_server
    with db() as session:
        record(session, "award.decided", "team", team[0], challenge_id=team[1])
    now = utcnow()
    run_steps(db, settings.with_overrides(smtp_host="127.0.0.1", smtp_port=free_port()), now)
    assert run_steps(db, settings.with_overrides(smtp_host=host, smtp_port=port), now + timedelta(minutes=2)) == 2
    assert len(inbox.wait_for(2)) == 2
    assert all(n.email_state == "sent" and n.attempts == 2 for n in notifications(db))
