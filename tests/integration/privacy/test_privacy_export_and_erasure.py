"""Data protection: the privacy page, the personal data export, erasure, and retention."""

import json
from datetime import timedelta

from sqlmodel import select

from app.accounts.models import ApiToken, Role, User
from app.audit.models import AuditEvent
from app.audit.services import record
from app.db import utcnow
from tests import factories
from tests.helpers import bearer, sign_in, submit


def make_team(db, make_user, challenge, email, name):
    user_id = make_user(email)
    with db() as session:
        team = factories.registered_team(session, user_id, challenge, name)
        record(session, "submission.accepted", "team", team.id, challenge_id=team.challenge_id)
        return user_id, team.id


def test_the_privacy_page_states_the_configured_retention_periods(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "10 years." in page and "5 years after the end of the challenge." in page and "365 days" in page


def test_the_export_holds_the_persons_data_and_nothing_of_anyone_else(db, client, make_user, challenge):
    ann, ann_team = make_team(db, make_user, challenge, "ann@example.org", "Ann Labs")
    bob, bob_team = make_team(db, make_user, challenge, "bob@example.org", "Bob Models")
    with db() as session:
        from app.accounts.services import issue_token

        issue_token(session, session.get(User, ann), "ann's laptop")
    sign_in(client, "ann@example.org")
    response = client.get("/account/data.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "ann@example.org"
    assert [t["name"] for t in data["teams"]] == ["Ann Labs"]
    assert data["records"]["apitoken"][0]["name"] == "ann's laptop"
    assert "token_hash" not in data["records"]["apitoken"][0]
    assert {e["action"] for e in data["records"]["auditevent"]} >= {"account.created", "team.registered"}
    text = json.dumps(data)
    assert "bob@example.org" not in text and "Bob Models" not in text
    assert all(row["user_id"] == ann for row in data["records"]["teammembership"])


def test_the_export_needs_a_signed_in_person(client):
    assert client.get("/account/data.json").status_code == 302


def test_erasure_pseudonymises_the_person_and_keeps_results_and_audit(db, client, make_user, challenge):
    from app.teams.models import Team

    ann, team_id = make_team(db, make_user, challenge, "ann@example.org", "Ann Labs")
    headers = bearer(client, make_user, db, "other@example.org")  # someone else's token keeps working
    with db() as session:
        from app.accounts.services import issue_token

        issue_token(session, session.get(User, ann), "script")
        audit_before = len(session.exec(select(AuditEvent)).all())
    sign_in(client, "ann@example.org")
    response = submit(
        client, "/account/erase", {"password": "correct-horse-battery", "confirm": "y"}, page="/account/data"
    )
    assert response.status_code == 302
    with db() as session:
        user = session.get(User, ann)
        assert (user.email, user.display_name, user.is_active) == (
            f"erased-{ann}@invalid",
            f"Erased participant #{ann}",
            False,
        )
        assert all(t.revoked_at is not None for t in session.exec(select(ApiToken).where(ApiToken.user_id == ann)))
        assert session.get(Team, team_id).name == f"Erased team #{team_id}"
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert len(events) == audit_before + 1 and events[-1].action == "privacy.erased"
        assert any(e.action == "submission.accepted" and e.subject_id == str(team_id) for e in events)
        from app.privacy.services import audit_events_mentioning

        assert audit_events_mentioning(session, "ann@example.org") == []
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_the_erased_person_cannot_sign_in_again(db, client, make_user, challenge):
    make_team(db, make_user, challenge, "ann@example.org", "Ann Labs")
    sign_in(client, "ann@example.org")
    submit(client, "/account/erase", {"password": "correct-horse-battery", "confirm": "y"}, page="/account/data")
    assert sign_in(client, "ann@example.org").status_code == 401
    assert client.get("/account/data").status_code == 302  # signed out


def test_erasure_with_a_wrong_password_changes_nothing(db, client, make_user):
    ann = make_user("ann@example.org")
    sign_in(client, "ann@example.org")
    response = submit(client, "/account/erase", {"password": "not-my-password", "confirm": "y"}, page="/account/data")
    assert response.status_code == 422 and "The password is wrong." in response.get_data(as_text=True)
    with db() as session:
        assert session.get(User, ann).email == "ann@example.org"


def test_a_team_with_other_members_keeps_its_name_after_one_member_is_erased(db, client, make_user, challenge):
    from app.teams.models import Team, TeamMembership

    ann, team_id = make_team(db, make_user, challenge, "ann@example.org", "Ann Labs")
    bob = make_user("bob@example.org")
    with db() as session:
        session.add(TeamMembership(team_id=team_id, user_id=bob, challenge_id=session.get(Team, team_id).challenge_id))
    sign_in(client, "ann@example.org")
    submit(client, "/account/erase", {"password": "correct-horse-battery", "confirm": "y"}, page="/account/data")
    with db() as session:
        assert session.get(Team, team_id).name == "Ann Labs"


def test_the_last_organiser_cannot_erase_their_account(db, client, make_user):
    make_user("org@example.org", Role.organiser)
    sign_in(client, "org@example.org")
    response = submit(
        client, "/account/erase", {"password": "correct-horse-battery", "confirm": "y"}, page="/account/data"
    )
    assert response.status_code == 422 and "last organiser" in response.get_data(as_text=True)


def test_erasing_a_judge_deletes_their_second_factor_secrets(db, client, make_user):
    from app.accounts.models import RecoveryCode, TotpCredential
    from app.privacy.services import erase

    make_user("org@example.org", Role.organiser)
    judge_id = make_user("judge@example.org", Role.judge)
    with db() as session:
        session.add(RecoveryCode(user_id=judge_id, code_hash="0" * 64))
    with db() as session:
        assert session.exec(select(TotpCredential).where(TotpCredential.user_id == judge_id)).first()
        erase(session, session.get(User, judge_id), "correct-horse-battery")
    with db() as session:
        assert session.exec(select(TotpCredential).where(TotpCredential.user_id == judge_id)).first() is None
        assert session.exec(select(RecoveryCode).where(RecoveryCode.user_id == judge_id)).first() is None


def test_retention_deletes_only_settled_old_notifications_and_closed_invitations(db, settings, make_user):
    from app.accounts.models import Invitation
    from app.notifications.models import Notification
    from app.privacy.jobs import apply_retention

    ann = make_user("ann@example.org")
    org = make_user("org@example.org", Role.organiser)
    old, now = utcnow() - timedelta(days=400), utcnow()
    with db() as session:
        for key, state, at in (("old-sent", "sent", old), ("old-queued", "queued", old), ("new", "sent", now)):
            session.add(
                Notification(
                    recipient_id=ann,
                    kind="award",
                    subject=key,
                    body="",
                    dedupe_key=key,
                    created_at=at,
                    email_state=state,
                )
            )
        session.add(
            Invitation(
                email="gone@example.org",
                role=Role.judge,
                token_hash="a" * 64,
                invited_by_id=org,
                created_at=old,
                expires_at=old + timedelta(days=14),
            )
        )
        session.add(
            Invitation(
                email="open@example.org",
                role=Role.judge,
                token_hash="b" * 64,
                invited_by_id=org,
                expires_at=now + timedelta(days=14),
            )
        )
    with db() as session:
        assert apply_retention(session, settings) == {
            "notifications": 1,
            "invitations": 1,
            "sign_up_requests": 0,
            "rate_counters": 0,
        }
    with db() as session:
        assert sorted(n.subject for n in session.exec(select(Notification))) == ["new", "old-queued"]
        assert [i.email for i in session.exec(select(Invitation))] == ["open@example.org"]
