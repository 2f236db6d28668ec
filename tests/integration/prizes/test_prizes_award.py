"""The award workflow against a real database: preconditions, preview, confirm, the chain, forfeit and re-run."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlmodel import select

from app.api.problems import status_of
from tests.factories import NOW, PRIZE_SLUG as SLUG, prize_world
from tests.helpers import sign_in


def _challenge(session):
    from app.challenges.services import get_challenge

    return get_challenge(session, SLUG)


def _state(db, app):
    from app.prizes.services import preview_state

    with db() as session:
        return preview_state(session, _challenge(session), app.config["LAGC"], NOW)


def _confirm(db, app, organiser_id):
    from app.accounts.models import User
    from app.prizes.workflow import confirm

    fingerprint = _state(db, app).preview.fingerprint
    with db() as session:
        return confirm(
            session, _challenge(session), app.config["LAGC"], session.get(User, organiser_id), fingerprint, NOW
        ).sequence


def _verify(app):
    return app.test_cli_runner().invoke(args=["prizes", "verify-chain", "--challenge", SLUG])


def test_the_preview_names_each_missing_precondition_instead_of_failing(db, app, world, four_entries):
    state = _state(db, app)
    assert state.preview is None
    assert any("Judging is still open" in m for m in state.missing)
    assert any("not frozen" in m for m in state.missing)
    world.lock_judging()
    assert [m for m in _state(db, app).missing if "not frozen" in m] and len(_state(db, app).missing) == 1


def test_the_preview_splits_the_pool_among_the_best_eligible_entries_and_says_why_others_are_out(
    db, app, world, four_entries
):
    world.entry("Nordic", 0.95, eligible="ineligible")
    world.settle()
    preview = _state(db, app).preview
    rows = {r.team: r for r in preview.rows}
    assert [(r.team, r.amount_cents, dict(r.gpu_hours)) for r in preview.winners] == [
        ("Aurora", 50_000_000, {"lumi": 500, "leonardo": 300}),
        ("Baltic", 50_000_000, {"lumi": 500, "leonardo": 300}),
    ]
    assert rows["Nordic"].status == "out" and "not eligible" in rows["Nordic"].why
    assert "baselines never win" in rows["Reference"].why
    assert "ranked below the 2 prize position(s)" in rows["Iberia"].why
    assert preview.payload["total_cents"] == 100_000_000 and preview.refused is None


def test_preview_then_confirm_records_a_chained_award_and_opens_the_release_obligations(
    db, app, world, four_entries, people
):
    from app.licences.models import ReleaseObligation
    from app.prizes.models import AwardRecord

    world.settle()
    assert _confirm(db, app, people["organiser"]) == 1
    with db() as session:
        award = session.exec(select(AwardRecord)).one()
        obligations = session.exec(select(ReleaseObligation).order_by(ReleaseObligation.team_id)).all()
    assert award.kind == "award" and award.prev_hash == "0" * 64
    assert [a["team"] for a in award.payload["awards"]] == ["Aurora", "Baltic"]
    assert award.payload["confirmed_by"] == "olga@example.eu"
    assert {x["team"] for x in award.payload["excluded"]} == {"Reference", "Iberia"}
    assert [o.team_id for o in obligations] == [four_entries["Aurora"], four_entries["Baltic"]]
    assert all(abs((o.deadline - NOW).days - 30) <= 1 for o in obligations)  # release_deadline_days = 30
    result = _verify(app)
    assert result.exit_code == 0 and "intact: 1 record" in result.output


def test_an_edited_award_record_is_detected_and_verify_chain_exits_non_zero(db, app, world, four_entries, people):
    from app.prizes.models import AwardRecord
    from app.prizes.records import check

    world.settle()
    _confirm(db, app, people["organiser"])
    with db() as session:
        payload = dict(session.exec(select(AwardRecord)).one().payload)
    payload["awards"][1]["amount_cents"] = 90_000_000  # someone doubles a winner's amount behind the ORM's back
    with db() as session:
        session.exec(
            text("UPDATE award_record SET payload = :p").bindparams(bindparam("p", type_=JSON)), params={"p": payload}
        )
    with db() as session:
        assert not check(session, _challenge(session)).ok
    result = _verify(app)
    assert result.exit_code != 0
    assert "record 0 ('#1 award')" in result.output and "edited payload" in result.output


def test_the_orm_refuses_to_change_or_delete_an_award_record(db, app, world, four_entries, people):
    from app.prizes.models import AwardRecord, PrizeRecordsAreAppendOnly

    world.settle()
    _confirm(db, app, people["organiser"])
    with pytest.raises(PrizeRecordsAreAppendOnly):
        with db() as session:
            award = session.exec(select(AwardRecord)).one()
            award.kind = "rerun"
            session.add(award)
            session.flush()
    with pytest.raises(PrizeRecordsAreAppendOnly):
        with db() as session:
            session.delete(session.exec(select(AwardRecord)).one())
            session.flush()


def test_a_forfeit_and_a_rerun_pass_the_prize_to_the_next_eligible_entry(db, app, world, four_entries, people):
    from app.accounts.models import User
    from app.prizes.records import chain_of
    from app.prizes.workflow import record_forfeit, rerun, rerun_preview

    world.settle()
    _confirm(db, app, people["organiser"])
    with db() as session:
        organiser, challenge = session.get(User, people["organiser"]), _challenge(session)
        record_forfeit(
            session,
            challenge,
            organiser,
            four_entries["Aurora"],
            "Disqualified: the model was found to be fine-tuned from a closed model.",
            NOW,
        )
    with db() as session:
        plan = rerun_preview(session, _challenge(session), app.config["LAGC"])
        rerun(
            session,
            _challenge(session),
            app.config["LAGC"],
            session.get(User, people["organiser"]),
            plan.preview.fingerprint,
            NOW,
        )
    with db() as session:
        records = chain_of(session, _challenge(session).id)
    assert [r.kind for r in records] == ["award", "forfeit", "rerun"]
    latest = records[-1]
    assert [a["team"] for a in latest.payload["awards"]] == ["Baltic", "Iberia"]
    assert latest.payload["previous_sequence"] == 1 and latest.payload["previous_hash"] == records[0].hash
    aurora = next(x for x in latest.payload["excluded"] if x["team"] == "Aurora")
    assert "prize forfeited" in aurora["reason"]
    assert [a["team"] for a in records[0].payload["awards"]] == ["Aurora", "Baltic"]  # history keeps both
    assert _verify(app).exit_code == 0


def test_an_overdue_release_obligation_forfeits_and_is_recorded_at_the_rerun(db, app, world, four_entries, people):
    from app.accounts.models import User
    from app.prizes.records import chain_of
    from app.prizes.workflow import rerun, rerun_preview

    world.settle()
    _confirm(db, app, people["organiser"])
    world.overdue(four_entries["Baltic"])
    with db() as session:
        plan = rerun_preview(session, _challenge(session), app.config["LAGC"])
        assert "release obligation overdue" in plan.forfeits[four_entries["Baltic"]]
        rerun(
            session,
            _challenge(session),
            app.config["LAGC"],
            session.get(User, people["organiser"]),
            plan.preview.fingerprint,
            NOW,
        )
    with db() as session:
        records = chain_of(session, _challenge(session).id)
    assert [r.kind for r in records] == ["award", "forfeit", "rerun"]
    assert records[1].payload["cause"] == "release_overdue" and records[1].payload["actor"] == "system"
    assert [a["team"] for a in records[-1].payload["awards"]] == ["Aurora", "Iberia"]


def test_a_confirmation_of_a_preview_that_changed_since_is_refused(db, app, world, four_entries, people):
    from app.accounts.models import User
    from app.prizes.workflow import PrizeError, confirm

    world.settle()
    stale = _state(db, app).preview.fingerprint
    world.entry("Nordic", 0.95)  # a late row changes the ranking the organiser did not see
    with db() as session, pytest.raises(PrizeError) as refused:
        confirm(session, _challenge(session), app.config["LAGC"], session.get(User, people["organiser"]), stale, NOW)
    assert status_of(refused.value) == 409 and "changed since you opened the preview" in refused.value.message


def test_a_tie_at_the_cut_off_names_the_tied_entries_until_the_organisers_decide(db, app, people):
    from app.accounts.models import User
    from app.audit.models import AuditEvent
    from app.prizes.workflow import decide_tie

    world = prize_world(db, people, entry_id_tie_break=False)
    first, left, right = world.entry("Aurora", 0.85), world.entry("Baltic", 0.70), world.entry("Celtic", 0.70)
    world.settle()
    preview = _state(db, app).preview
    assert preview.refused and "tied at rank 2" in preview.refused
    assert set(preview.tied) == {left, right}
    with db() as session:
        decide_tie(
            session,
            _challenge(session),
            session.get(User, people["organiser"]),
            [right, left],
            "Celtic's submission arrived first; the jury minutes of 3 May record this.",
            NOW,
        )
    preview = _state(db, app).preview
    assert preview.refused is None
    assert [r.team_id for r in preview.winners] == [first, right]
    with db() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "prize.tie_break")).one()


def test_the_preview_rechecks_licences_without_writing_and_the_confirmation_records_the_change(
    db, app, world, four_entries, people
):
    from app.audit.models import AuditEvent
    from app.checkpoints.models import Submission
    from app.checkpoints.storage import Storage

    world.settle()
    with db() as session:
        baltic = session.exec(select(Submission).where(Submission.team_id == four_entries["Baltic"])).one()
    folder = Storage(app.config["LAGC"].storage_dir).submission_dir(baltic.id)
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: llama2\n---\n# Baltic\n")  # the pinned card says review now
    client = app.test_client()
    sign_in(client, "olga@example.eu")
    html = client.get(f"/organiser/c/{SLUG}/prizes").get_data(as_text=True)
    assert 'data-team="Baltic" data-status="out"' in html and "licence still under review" in html
    with db() as session:
        assert session.get(Submission, baltic.id).licence_verdict == "pass"  # the preview wrote nothing
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "licence.verdict_changed")).all() == []
    _confirm(db, app, people["organiser"])
    with db() as session:
        assert session.get(Submission, baltic.id).licence_verdict == "review"
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "licence.verdict_changed")).all()
        assert (event.details["before"], event.details["after"]) == ("pass", "review")
