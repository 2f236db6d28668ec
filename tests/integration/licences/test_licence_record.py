"""Recording a submission's licence verdict from its folder, rechecking it at award time, and showing it."""

from __future__ import annotations

from flask import render_template_string
from sqlmodel import select

from app.audit.models import AuditEvent
from app.checkpoints.models import Submission
from app.licences.services import record_submission_licence, recheck_submission_licence
from tests.factories import MIT_LICENSE, model_card as card

LLAMA_CARD = card("license: llama3\nbase_model: meta-llama/Meta-Llama-3-8B")


def events(session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_accepted_submission_gets_its_verdict_licence_and_reasons_recorded_and_audited(db, entrant_team, tmp_path):
    (tmp_path / "README.md").write_bytes(card("license: mit"))
    (tmp_path / "LICENSE").write_bytes(MIT_LICENSE)
    with db() as session:
        submission = session.get(Submission, entrant_team["submission_id"])
        verdict = record_submission_licence(session, submission, tmp_path)
    assert verdict.verdict.value == "pass"
    with db() as session:
        stored = session.get(Submission, entrant_team["submission_id"])
        assert (stored.licence_verdict, stored.licence_id) == ("pass", "mit")
        assert stored.licence_reasons == verdict.reasons
        [event] = events(session, "licence.checked")
        assert event.subject_id == str(stored.id) and event.details["verdict"] == "pass"


def test_a_folder_without_any_licence_is_recorded_as_a_fail(db, entrant_team, tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 16)
    with db() as session:
        verdict = record_submission_licence(session, session.get(Submission, entrant_team["submission_id"]), tmp_path)
    assert verdict.verdict.value == "fail" and "No licence found" in verdict.reasons[0]


def test_a_recheck_with_the_same_files_changes_nothing_and_leaves_no_event(db, entrant_team, tmp_path):
    (tmp_path / "README.md").write_bytes(LLAMA_CARD)
    with db() as session:
        submission = session.get(Submission, entrant_team["submission_id"])
        record_submission_licence(session, submission, tmp_path)
        recheck_submission_licence(session, submission, tmp_path)
    with db() as session:
        assert events(session, "licence.verdict_changed") == []


def test_a_recheck_that_finds_a_different_verdict_records_it_with_an_audit_event(db, entrant_team, tmp_path):
    (tmp_path / "README.md").write_bytes(card("license: mit"))
    (tmp_path / "LICENSE").write_bytes(MIT_LICENSE)
    with db() as session:
        record_submission_licence(session, session.get(Submission, entrant_team["submission_id"]), tmp_path)
    (tmp_path / "README.md").write_bytes(LLAMA_CARD)
    with db() as session:
        verdict = recheck_submission_licence(session, session.get(Submission, entrant_team["submission_id"]), tmp_path)
    assert verdict.verdict.value == "review"
    with db() as session:
        [event] = events(session, "licence.verdict_changed")
        assert (event.details["before"], event.details["after"]) == ("pass", "review")
        assert session.get(Submission, entrant_team["submission_id"]).licence_verdict == "review"


def test_the_verdict_partial_shows_a_badge_and_the_reasons(app, db, entrant_team, tmp_path):
    (tmp_path / "README.md").write_bytes(LLAMA_CARD)
    with db() as session:
        record_submission_licence(session, session.get(Submission, entrant_team["submission_id"]), tmp_path)
    with app.test_request_context("/"):
        from app.db import get_session

        submission = get_session().get(Submission, entrant_team["submission_id"])
        html = render_template_string('{% include "licences/_verdict.html" %}', submission=submission)
    assert 'data-licence-verdict="review"' in html and "in review" in html
    assert "base_model" in html and "<code>llama3</code>" in html


def test_the_check_command_can_use_a_loaded_challenges_policy(app, challenge, tmp_path):
    import json

    (tmp_path / "README.md").write_bytes(card("license: mit"))
    (tmp_path / "LICENSE").write_bytes(MIT_LICENSE)
    result = app.test_cli_runner().invoke(args=["licence", "check", str(tmp_path), "--challenge", challenge])
    assert result.exit_code == 0 and json.loads(result.output)["verdict"] == "pass"
    unknown = app.test_cli_runner().invoke(args=["licence", "check", str(tmp_path), "--challenge", "nope"])
    assert unknown.exit_code != 0 and "no challenge 'nope'" in unknown.output
