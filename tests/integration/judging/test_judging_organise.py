"""The organisers' side: the assignment matrix, progress, finalise and publish, the audit trail, the demo."""

from __future__ import annotations

from sqlmodel import select

from app.audit.models import AuditEvent
from tests.helpers import sign_in, submit


def test_the_matrix_assigns_and_unassigns_judges(client, field, judging):
    judging.conflict("j2", field.b)
    sign_in(client, "org@example.eu")
    page = f"/c/{field.slug}/judging/organise"
    ticks = {"assign": [f"{field.users['j1']}:{field.a}", f"{field.users['j2']}:{field.a}"]}
    html = submit(client, f"/c/{field.slug}/judging/assignments", ticks, page=page, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Assignments saved." in html and "recused" in html
    sign_in(client, "j1@example.eu")
    judge_page = client.get(f"/c/{field.slug}/judging").get_data(as_text=True)
    assert f'data-team="{field.a}" data-status="to score"' in judge_page
    sign_in(client, "org@example.eu")
    submit(client, f"/c/{field.slug}/judging/assignments", {"assign": []}, page=page)
    sign_in(client, "j1@example.eu")
    assert client.get(f"/c/{field.slug}/scorecards/{field.a}").status_code == 404


def test_finalise_then_publish_from_the_console(client, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a)
    sign_in(client, "org@example.eu")
    page = f"/c/{field.slug}/judging/organise"
    html = submit(
        client, f"/c/{field.slug}/judging/lock", {"confirm_lock": "y"}, page=page, follow_redirects=True
    ).get_data(as_text=True)
    assert 'data-judging-state="locked"' in html and "1 of 1" in html
    html = submit(
        client, f"/c/{field.slug}/judging/publish", {"confirm_publish": "y"}, page=page, follow_redirects=True
    ).get_data(as_text=True)
    assert 'data-judging-state="published"' in html
    assert client.get(f"/api/v1/judging/{field.slug}").get_json()["judges_scores"][str(field.a)]["n_judges"] == 1


def test_every_judging_act_is_an_audit_event(db, field, judging):
    judging.assign("j1", field.a)
    judging.sheet("j1", field.a)
    judging.sheet("j1", field.a)
    judging.conflict("j2", field.b)
    judging.lock()
    judging.publish()
    with db() as session:
        actions = [
            e.action
            for e in session.exec(
                select(AuditEvent).where(AuditEvent.action.like("judging.%")).order_by(AuditEvent.id)
            ).all()
        ]
    assert actions == [
        "judging.assigned",
        "judging.sheet_submitted",
        "judging.sheet_revised",
        "judging.conflict_declared",
        "judging.locked",
        "judging.published",
    ]


def test_the_demo_assigns_both_judges_with_one_conflict_and_some_sheets(db, settings):
    from app.accounts.services import find_user
    from app.challenges.services import get_challenge
    from app.demo import load_demo
    from app.judging.overview import judge_entries
    from app.judging.services import judges_scores, judging_state

    for _ in range(2):  # idempotent
        with db() as session:
            load_demo(session, settings)
    with db() as session:
        demo = get_challenge(session, "demo")
        joana = judge_entries(session, demo, find_user(session, "judge2@demo.lagc.eu"))
        jonas = judge_entries(session, demo, find_user(session, "judge@demo.lagc.eu"))
        assert [e.status for e in joana].count("recused") == 1
        assert {e.team.name: e.status for e in jonas}["Iberia NLP (PT)"] == "to score"
        assert judging_state(session, demo) == "open"
        assert len(judges_scores(session, demo, published_only=False)) == 2


def test_finalising_the_demo_names_the_sheets_its_judges_have_not_sent(db, settings):
    from app.challenges.services import get_challenge
    from app.demo import load_demo
    from app.judging.services import missing_sheets

    with db() as session:
        load_demo(session, settings)
    with db() as session:
        missing = missing_sheets(session, get_challenge(session, "demo"))
        assert [m.words for m in missing] == [
            "Jonas Judge has not scored Baltic Tensor (LV)",
            "Jonas Judge has not scored Iberia NLP (PT)",
        ]
