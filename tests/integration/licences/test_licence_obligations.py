"""Winners' release obligations: weights released on the Hub (checked against FakeHub), a publication accepted
by an organiser, the overdue step, and who may see and change what."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.challenges.models import Challenge
from app.checkpoints.models import Submission
from app.licences.jobs import mark_overdue_obligations
from app.licences.models import ObligationStatus, ReleaseObligation
from app.licences.obligations import (
    accept_obligation,
    declare_publication,
    open_obligation,
    release_deadline,
)
from app.licences.services import LicenceError
from app.teams.models import Team
from tests.factories import MIT_LICENSE, model_card as card
from tests.helpers import sign_in, submit

AWARDED = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
PROPRIETARY = b"Copyright 2024 Example Labs. All rights reserved. You may not copy or distribute these weights."


@pytest.fixture
def settings(settings, fake_hub):
    """The application reads releases from FakeHub."""
    return settings.with_overrides(hub_endpoint=fake_hub.url)


@pytest.fixture
def obligation(db, entrant_team) -> int:
    """The entrant team won: an obligation opened at the award with the challenge's deadline."""
    with db() as session:
        challenge = session.get(Challenge, entrant_team["challenge_id"])
        deadline = release_deadline(challenge, AWARDED)
        found = open_obligation(
            session,
            session.get(Team, entrant_team["team_id"]),
            session.get(Submission, entrant_team["submission_id"]),
            deadline,
            award_ref=7,
        )
        return found.id


def load(db, obligation_id: int) -> ReleaseObligation:
    with db() as session:
        return session.get(ReleaseObligation, obligation_id)


def declare_weights_page(client, team: dict, obligation_id: int, repo: str, revision: str = "main"):
    url = f"/c/{team['slug']}/release/{obligation_id}/weights"
    return submit(
        client, url, {"hub_repo": repo, "revision": revision}, page=f"/c/{team['slug']}/release", follow_redirects=True
    )


def test_the_deadline_is_counted_from_the_award_in_the_challenges_days(db, obligation):
    found = load(db, obligation)
    assert found.deadline == AWARDED + timedelta(days=365)
    assert (found.status, found.award_ref) == (ObligationStatus.pending, "7")


def test_opening_an_obligation_twice_for_the_same_award_keeps_one(db, entrant_team, obligation):
    with db() as session:
        again = open_obligation(
            session,
            session.get(Team, entrant_team["team_id"]),
            session.get(Submission, entrant_team["submission_id"]),
            AWARDED,
            award_ref="7",
        )
        assert again.id == obligation
        assert len(session.exec(select(ReleaseObligation)).all()) == 1


def test_weights_released_under_an_open_licence_meet_the_obligation_at_a_pinned_commit(
    client, db, fake_hub, entrant_team, obligation
):
    sha = fake_hub.add(
        "aurora/aurora-7b", {"README.md": card("license: mit"), "LICENSE": MIT_LICENSE, "model.safetensors": b"\0" * 8}
    )
    sign_in(client, entrant_team["email"])
    page = declare_weights_page(client, entrant_team, obligation, "aurora/aurora-7b").get_data(as_text=True)
    assert "the obligation is met" in page and sha in page
    found = load(db, obligation)
    assert (found.status, found.hub_commit, found.release_verdict) == (ObligationStatus.met, sha, "pass")
    assert found.release_licence == "mit"


def test_weights_released_under_a_proprietary_licence_stay_pending_with_the_reasons(
    client, db, fake_hub, entrant_team, obligation
):
    fake_hub.add("aurora/aurora-7b", {"README.md": b"# Aurora\n", "LICENSE": PROPRIETARY}, branch="v1")
    sign_in(client, entrant_team["email"])
    page = declare_weights_page(client, entrant_team, obligation, "aurora/aurora-7b", "v1").get_data(as_text=True)
    assert "fails the check" in page and "proprietary" in page
    found = load(db, obligation)
    assert (found.status, found.release_verdict) == (ObligationStatus.pending, "fail")


def test_a_private_or_missing_hub_repo_is_refused_with_a_reason(client, db, fake_hub, entrant_team, obligation):
    fake_hub.add("aurora/secret", {"README.md": card("license: mit")}, token="hf_the_owners_token")
    sign_in(client, entrant_team["email"])
    page = declare_weights_page(client, entrant_team, obligation, "aurora/secret").get_data(as_text=True)
    assert "not a public model" in page
    page = declare_weights_page(client, entrant_team, obligation, "../etc/passwd").get_data(as_text=True)
    assert "owner/name" in page
    assert load(db, obligation).kind is None


def test_a_publication_waits_for_an_organiser_who_accepts_it(client, db, make_user, entrant_team, obligation):
    sign_in(client, entrant_team["email"])
    url = f"/c/{entrant_team['slug']}/release/{obligation}/publication"
    bad = submit(
        client,
        url,
        {"publication_id": "my blog post"},
        page=f"/c/{entrant_team['slug']}/release",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Give a DOI" in bad
    submit(
        client, url, {"publication_id": "https://arxiv.org/abs/2401.12345"}, page=f"/c/{entrant_team['slug']}/release"
    )
    found = load(db, obligation)
    assert (found.status, found.publication_id) == (ObligationStatus.pending, "arXiv:2401.12345")
    make_user("olga@example.eu", Role.organiser)
    organiser = client.application.test_client()
    sign_in(organiser, "olga@example.eu")
    assert "arXiv:2401.12345" in organiser.get("/organiser/licences").get_data(as_text=True)
    submit(
        organiser,
        f"/organiser/licences/obligations/{obligation}/accept",
        {"notes": "Read it: complete."},
        page="/organiser/licences",
    )
    found = load(db, obligation)
    assert found.status is ObligationStatus.met and found.accepted_by_id is not None
    with db() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "release.accepted")).one()


def test_an_obligation_with_nothing_declared_cannot_be_accepted(db, make_user, obligation):
    organiser_id = make_user("olga@example.eu", Role.organiser)
    with db() as session:
        with pytest.raises(LicenceError, match="no declaration"):
            accept_obligation(session, session.get(ReleaseObligation, obligation), organiser_id)


def test_the_overdue_step_marks_late_obligations_once_with_an_audit_event(db, settings, obligation):
    deadline = AWARDED + timedelta(days=365)
    with db() as session:
        assert mark_overdue_obligations(session, settings, now=deadline - timedelta(seconds=1)) == 0
        assert mark_overdue_obligations(session, settings, now=deadline + timedelta(seconds=1)) == 1
    with db() as session:
        assert mark_overdue_obligations(session, settings, now=deadline + timedelta(days=2)) == 0
        assert load(db, obligation).status is ObligationStatus.overdue
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "release.overdue")).all()) == 1


def test_a_publication_declared_in_time_is_not_overdue_while_it_waits_for_an_organiser(
    db, settings, obligation, entrant_team
):
    with db() as session:
        declare_publication(
            session, session.get(ReleaseObligation, obligation), "10.1000/xyz123", entrant_team["user_id"], now=AWARDED
        )
        assert mark_overdue_obligations(session, settings, now=AWARDED + timedelta(days=400)) == 0


def test_organisers_see_overdue_obligations_and_entrants_see_their_own(
    client, db, settings, make_user, entrant_team, obligation
):
    with db() as session:
        mark_overdue_obligations(session, settings, now=AWARDED + timedelta(days=366))
    sign_in(client, entrant_team["email"])
    own = client.get(f"/c/{entrant_team['slug']}/release").get_data(as_text=True)
    assert 'data-obligation-status="overdue"' in own
    make_user("olga@example.eu", Role.organiser)
    organiser = client.application.test_client()
    sign_in(organiser, "olga@example.eu")
    page = organiser.get("/organiser/licences").get_data(as_text=True)
    assert 'class="overdue"' in page and "Aurora Labs" in page


def test_an_entrant_of_another_team_gets_a_404_for_someone_elses_obligation(
    client, db, make_team, challenge, obligation
):
    other = make_team("bob@example.eu", "Baltic Tensor")
    sign_in(client, other["email"])
    assert "no release obligation" in client.get(f"/c/{challenge}/release").get_data(as_text=True)
    response = submit(
        client,
        f"/c/{challenge}/release/{obligation}/publication",
        {"publication_id": "2401.12345"},
        page=f"/c/{challenge}/release",
    )
    assert response.status_code == 404
    assert load(db, obligation).publication_id is None
