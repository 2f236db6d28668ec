"""A winning team's dashboard says that it won, what (euros to the cent, GPU hours per cluster), its release
obligation from the challenge's rules and where it stands; a team that did not win sees none of it."""

from __future__ import annotations

from sqlmodel import select

from app.teams.models import TeamMembership
from tests.factories import NOW
from tests.helpers import page_text, sign_in


def join(db, world, team_id: int, user_id: int) -> None:
    with db() as session:
        session.add(TeamMembership(team_id=team_id, user_id=user_id, challenge_id=world.challenge_id))


def confirm(db, app, people):
    from app.accounts.models import User
    from app.challenges.services import get_challenge
    from app.prizes.services import preview_state
    from app.prizes.workflow import confirm as confirm_award

    with db() as session:
        challenge = get_challenge(session, "prize-test")
        fingerprint = preview_state(session, challenge, app.config["LAGC"], NOW).preview.fingerprint
        confirm_award(session, challenge, app.config["LAGC"], session.get(User, people["organiser"]), fingerprint, NOW)


def prize_card(client) -> str:
    text = page_text(client.get("/dashboard"))
    return text.split('data-prize="', 1)[1].split("</section>", 1)[0] if 'data-prize="' in text else ""


def test_a_winning_team_is_told_what_it_won_and_what_it_must_release(client, db, app, world, four_entries, people):
    join(db, world, four_entries["Aurora"], people["entrant"])
    world.settle()
    confirm(db, app, people)
    sign_in(client, "aino@example.eu")
    card = prize_card(client)
    assert "Your team won" in card and "rank 1" in card
    assert "EUR 500,000.00" in card and "500 GPU hours on LUMI" in card and "300 GPU hours on LEONARDO" in card
    assert "allowing at least non-commercial use" in card and "or publish your findings" in card
    assert "Not released yet" in card and "days left" in card
    assert "not public yet" in card


def test_the_card_follows_the_release_and_the_publication(client, db, app, world, four_entries, people):
    from app.licences.models import ReleaseObligation
    from app.licences.obligations import declare_publication

    join(db, world, four_entries["Aurora"], people["entrant"])
    world.settle()
    confirm(db, app, people)
    with db() as session:
        obligation = session.exec(
            select(ReleaseObligation).where(ReleaseObligation.team_id == four_entries["Aurora"])
        ).one()
        declare_publication(session, obligation, "2401.12345", people["entrant"])
    sign_in(client, "aino@example.eu")
    assert "arXiv:2401.12345" in prize_card(client) and "waiting for an organiser" in prize_card(client)


def test_a_team_that_did_not_win_sees_no_prize(client, db, app, world, four_entries, people):
    join(db, world, four_entries["Iberia"], people["entrant"])
    world.settle()
    confirm(db, app, people)
    sign_in(client, "aino@example.eu")
    assert prize_card(client) == "" and "Your team won" not in page_text(client.get("/dashboard"))


def test_a_challenge_asking_for_the_weights_refuses_a_publication(db, app, world, four_entries, people):
    import pytest

    from app.challenges.services import get_challenge, load_config_text
    from app.licences.models import ReleaseObligation
    from app.licences.obligations import declare_publication
    from app.licences.services import LicenceError
    from tests.factories import prize_config_text

    with db() as session:
        text = prize_config_text().replace(
            "release_deadline_days = 30", 'release_deadline_days = 30\nrelease = ["weights"]'
        )
        load_config_text(session, text)
    world.settle()
    confirm(db, app, people)
    with db() as session:
        assert get_challenge(session, "prize-test") is not None
        obligation = session.exec(select(ReleaseObligation)).first()
        with pytest.raises(LicenceError, match="asks for the weights"):
            declare_publication(session, obligation, "2401.12345", people["entrant"])
