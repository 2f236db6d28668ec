"""Preferences, the notifications page, unread counts, and deadline reminders."""

from datetime import timedelta

from sqlmodel import select

from app.audit.services import record
from app.notifications.fanout import process_audit_log, remind_deadlines
from app.notifications.models import Notification
from app.notifications.sender import send_due
from tests.helpers import csrf_token, sign_in, submit


def mine(db, user_id):
    with db() as session:
        return session.exec(select(Notification).where(Notification.recipient_id == user_id)).all()


def test_a_person_who_turns_off_email_still_sees_it_on_the_dashboard(db, settings, team, client, smtp_server):
    host, port, inbox = smtp_server
    ann, bob = team[2]
    sign_in(client, "ann@example.org")
    assert submit(client, "/account/notifications", {"dashboard-eligibility": "on"}).status_code == 302
    with db() as session:
        record(session, "eligibility.experience_confirmed", "team", team[0], challenge_id=team[1], status="eligible")
        process_audit_log(session)
    with db() as session:
        send_due(session, settings.with_overrides(smtp_host=host, smtp_port=port))
    assert [m["To"] for m in inbox.wait_for(1)] == ["bob@example.org"]
    (ann_notice,) = mine(db, ann)
    assert ann_notice.email_state == "skipped" and ann_notice.on_dashboard
    assert "experience evidence is confirmed" in client.get("/notifications").get_data(as_text=True)


def test_a_person_who_turns_off_both_channels_gets_nothing(db, team, client):
    ann, bob = team[2]
    sign_in(client, "ann@example.org")
    submit(client, "/account/notifications", {})  # every box unticked
    with db() as session:
        record(session, "submission.rejected", "team", team[0], challenge_id=team[1], errors=["no weights"])
        process_audit_log(session)
    assert mine(db, ann) == [] and len(mine(db, bob)) == 1


def test_the_preferences_page_shows_the_saved_choices(team, client):
    sign_in(client, "ann@example.org")
    submit(client, "/account/notifications", {"email-deadline": "on"})
    page = client.get("/account/notifications").get_data(as_text=True)
    assert 'name="email-deadline" id="email-deadline" aria-label="Deadlines by e-mail" checked' in page
    assert 'name="dashboard-deadline" id="dashboard-deadline" aria-label="Deadlines on the dashboard" >' in page


def test_preferences_without_the_csrf_token_are_refused(team, client):
    sign_in(client, "ann@example.org")
    assert client.post("/account/notifications", data={"email-deadline": "on"}).status_code == 400


def test_the_unread_count_shows_in_the_navigation_until_read(db, team, client):
    with db() as session:
        record(session, "submission.accepted", "team", team[0], challenge_id=team[1])
        record(session, "evaluation.finished", "evaluation", 3, challenge_id=team[1], team_id=team[0])
        process_audit_log(session)
    sign_in(client, "ann@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'aria-label="2 unread"' in page
    first = mine(db, team[2][0])[0]
    client.post(f"/notifications/{first.id}/read", data={"csrf_token": csrf_token(page)})
    assert 'aria-label="1 unread"' in client.get("/dashboard").get_data(as_text=True)
    client.post("/notifications/read", data={"csrf_token": csrf_token(page)})
    assert "unread" not in client.get("/dashboard").get_data(as_text=True)


def test_nobody_can_mark_another_persons_notification_as_read(db, team, client, make_user):
    with db() as session:
        record(session, "submission.accepted", "team", team[0], challenge_id=team[1])
        process_audit_log(session)
    make_user("eve@example.org")
    sign_in(client, "eve@example.org")
    page = client.get("/notifications").get_data(as_text=True)
    target = mine(db, team[2][0])[0]
    client.post(f"/notifications/{target.id}/read", data={"csrf_token": csrf_token(page)})
    assert mine(db, team[2][0])[0].read_at is None


def test_a_deadline_within_48_hours_is_announced_once_per_deadline_and_person(db, team, make_user):
    """The challenge's first phase takes registrations, applications and submissions, the next one submissions:
    the submission deadline is the end of the second (the window), announced to the team's members."""
    from app.challenges.models import Phase

    with db() as session:
        phase = session.exec(select(Phase).where(Phase.challenge_id == team[1], Phase.key == "submission")).one()
        now = phase.ends_at - timedelta(hours=30)
    for _ in range(3):
        with db() as session:
            remind_deadlines(session, now)
    for user_id in team[2]:
        (notice,) = mine(db, user_id)
        assert notice.kind == "deadline" and notice.subject == "Deadline in less than 48 hours: checkpoint submissions"


def test_registration_and_applications_are_announced_where_their_window_closes(db, team, make_user):
    from app.challenges.models import Phase

    with db() as session:
        first = session.exec(select(Phase).where(Phase.challenge_id == team[1], Phase.key == "registration")).one()
        remind_deadlines(session, first.ends_at - timedelta(hours=10))
    subjects = {n.subject for n in mine(db, team[2][0])}
    assert subjects == {
        "Deadline in less than 48 hours: team registration",
        "Deadline in less than 48 hours: eligibility applications",
    }


def test_no_reminder_comes_while_the_deadline_is_further_than_48_hours(db, team):
    from app.challenges.models import Phase

    with db() as session:
        phase = session.exec(select(Phase).where(Phase.challenge_id == team[1], Phase.key == "submission")).one()
        remind_deadlines(session, phase.ends_at - timedelta(hours=60))
    assert mine(db, team[2][0]) == []
