"""An organiser's click on an evaluation that another request (a second click, or the scheduler) changed
between the page being read and the click landing: the change is made once, the late one is refused."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.challenges.services import get_challenge
from evaluation import services
from evaluation.models import Evaluation, EvaluationState
from tests import factories


@pytest.fixture
def evaluation_id(db, make_user, challenge) -> int:
    """A failed evaluation of an accepted submission."""
    user_id = make_user("ana@aurora.eu")
    with db() as session:
        found = get_challenge(session, challenge)
        team = factories.team(session, found.id, "Aurora")
        submission = factories.submission(session, found.id, team.id, user_id)
        return factories.evaluation(session, submission, state=EvaluationState.failed, attempt=1).id


def _sessions(app):
    engine = app.extensions["lagc_engine"]
    return Session(engine, expire_on_commit=False), Session(engine, expire_on_commit=False)


@pytest.mark.parametrize("act", ["retry", "cancel"])
def test_a_second_click_read_before_the_first_landed_is_refused(app, db, make_user, evaluation_id, act):
    organiser = make_user("olga@lagc.eu", Role.organiser)
    first, second = _sessions(app)
    if act == "cancel":  # a queued evaluation, as the page showed it
        with db() as session:
            session.get(Evaluation, evaluation_id).state = EvaluationState.queued
    do = {"retry": services.organiser_retry, "cancel": services.request_cancel}[act]
    late = second.get(Evaluation, evaluation_id)  # the second request read the row first...
    do(first, first.get(Evaluation, evaluation_id), organiser)
    first.commit()
    with pytest.raises(services.EvaluationError, match="changed meanwhile"):
        do(second, late, organiser)  # ...and lands after the first committed
    second.rollback()
    with db() as session:
        ev = session.get(Evaluation, evaluation_id)
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.subject_type == "evaluation")).all()
    assert ev.attempt == (2 if act == "retry" else 1)
    assert len([a for a in actions if a in ("evaluation.retried", "evaluation.cancel_requested")]) == 1
    first.close()
    second.close()


def test_the_scheduler_does_not_dispatch_an_evaluation_cancelled_after_it_read_the_queue(
    app, db, make_user, evaluation_id
):
    organiser = make_user("olga@lagc.eu", Role.organiser)
    with db() as session:
        session.get(Evaluation, evaluation_id).state = EvaluationState.queued
    scheduler, page = _sessions(app)
    read = scheduler.get(Evaluation, evaluation_id)  # the scheduler's cycle read the queue
    services.request_cancel(page, page.get(Evaluation, evaluation_id), organiser)
    page.commit()
    assert not services.claim_dispatch(scheduler, read, "/tmp/none", factories.NOW)
    scheduler.rollback()
    with db() as session:
        assert session.get(Evaluation, evaluation_id).state == EvaluationState.cancelled
    scheduler.close()
    page.close()
