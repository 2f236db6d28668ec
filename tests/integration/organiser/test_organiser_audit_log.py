"""The audit log page: search by challenge, action prefix, actor, subject and dates; pages; CSV and JSON."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from app.audit.services import record
from app.challenges.services import get_challenge


def _events(db, make_user) -> None:
    ana = make_user("ana@aurora.eu")
    with db() as session:
        challenge = get_challenge(session, "lagc-2024")
        record(
            session,
            "eligibility.overridden",
            "team",
            7,
            actor_id=ana,
            challenge_id=challenge.id,
            justification="=cmd|' /C calc'!A0",
        )
        record(session, "eligibility.confirmed", "team", 8, challenge_id=challenge.id)
        old = record(session, "prize.awarded", "team", 7, challenge_id=challenge.id)
        old.at = datetime(2024, 6, 26, 9, 0, tzinfo=timezone.utc)


def test_search_narrows_by_action_prefix_actor_subject_and_dates(organiser, db, make_user, challenge):
    _events(db, make_user)
    assert ">2<" in organiser.get("/organiser/audit?action=eligibility.").get_data(as_text=True)
    by_ana = organiser.get("/organiser/audit?actor=aurora").get_data(as_text=True)
    assert "eligibility.overridden" in by_ana and "eligibility.confirmed" not in by_ana
    system = organiser.get("/organiser/audit?actor=system&subject=team:8").get_data(as_text=True)
    assert "eligibility.confirmed" in system and 'id="total">1<' in system
    dated = organiser.get("/organiser/audit?since=2024-06-26&until=2024-06-26").get_data(as_text=True)
    assert "prize.awarded" in dated and 'id="total">1<' in dated
    one = organiser.get("/organiser/audit?challenge=lagc-2024&action=prize").get_data(as_text=True)
    assert 'id="total">1<' in one


def test_a_bad_date_is_shown_and_ignored_not_an_error(organiser, challenge):
    response = organiser.get("/organiser/audit?since=yesterday")
    assert response.status_code == 422 and "Not a valid date value" in response.get_data(as_text=True)


def test_the_log_is_paginated_newest_first(organiser, db, challenge):
    with db() as session:
        for i in range(60):
            record(session, "test.event", "thing", i)
    first = organiser.get("/organiser/audit?action=test.").get_data(as_text=True)
    second = organiser.get("/organiser/audit?action=test.&page=2").get_data(as_text=True)
    assert "thing:59" in first and "thing:0<" not in first and "Page 1 of 2" in first
    assert "thing:0<" in second and "Older" not in second


def test_csv_and_json_export_the_filtered_view(organiser, db, make_user, challenge):
    _events(db, make_user)
    exported = organiser.get("/organiser/audit/export.csv?action=eligibility.")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["eligibility.overridden", "eligibility.confirmed"]
    assert rows[0]["actor"] == "ana@aurora.eu" and rows[1]["actor"] == "system"
    assert rows[0]["details"].startswith('{"justification"')  # a formula-looking value stays inside JSON
    data = organiser.get("/organiser/audit/export.json?actor=aurora&action=eligibility").get_json()
    assert len(data) == 1 and data[0]["details"]["justification"].startswith("=cmd")


def test_the_csv_export_neutralises_an_actor_address_that_reads_as_a_formula(organiser, db, make_user, challenge):
    evil = make_user("=cmd|'/Ccalc'!a0@evil.example")
    with db() as session:
        record(session, "eligibility.overridden", "team", 9, actor_id=evil)
    exported = organiser.get("/organiser/audit/export.csv?action=eligibility.").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(exported)))
    assert row["actor"] == "'=cmd|'/ccalc'!a0@evil.example" and row["actor_id"] == str(evil)


def test_the_dashboard_and_the_audit_log_name_an_actor_alike(organiser, db, make_user, challenge):
    _events(db, make_user)
    dashboard = organiser.get("/dashboard").get_data(as_text=True)
    log = organiser.get("/organiser/audit").get_data(as_text=True)
    for page in (dashboard, log):
        by = [cell.split("</span>", 1)[1].split("</td>", 1)[0] for cell in page.split('aria-hidden="true">By')[1:]]
        assert by[:3] == ["system", "system", "ana@aurora.eu"]  # newest first
