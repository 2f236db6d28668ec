"""The demo's own seeded submissions are dated before today (inside the demo's submission window), so an
entrant trying the demo still has the whole daily allowance for their own submissions."""

from __future__ import annotations

from datetime import datetime, time

from sqlmodel import select


def test_the_demos_seeded_submissions_leave_the_daily_allowance_to_the_entrant(app, db):
    from app.challenges.services import get_challenge, phase_gate
    from evaluation.demo import BROKEN_LABEL, DEMO_LABEL
    from app.checkpoints.limits import limit_problem
    from app.checkpoints.models import Submission
    from app.checkpoints.services import count_submissions, limits_of
    from app.db import utcnow
    from app.demo import DEMO_SLUG, load_demo

    with db() as session:
        load_demo(session, app.config["LAGC"])
    now = utcnow()
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    with db() as session:
        demo = get_challenge(session, DEMO_SLUG)
        seeded = session.exec(select(Submission).where(Submission.label.in_((DEMO_LABEL, BROKEN_LABEL)))).all()
        assert len(seeded) == 3  # the two eligible demo teams, and the second one's newer checkpoint without tokenizer
        for submission in seeded:
            assert submission.created_at < midnight
            assert phase_gate(demo, "submit", submission.created_at).allowed
            today, total = count_submissions(session, submission.team_id, now)
            assert (today, total) == (0, sum(s.team_id == submission.team_id for s in seeded))
            assert limit_problem(limits_of(demo), today + limits_of(demo).submissions_per_day - 1, total) is None
