"""The pure notification rules: which audit actions tell whom, deadlines, retries and the audit watermark."""

from datetime import datetime, timedelta, timezone

import pytest

from app.notifications.rules import (
    KINDS,
    MAX_ATTEMPTS,
    EventFacts,
    advance_watermark,
    deadline_draft,
    drafts_for,
    gives_up,
    is_due_soon,
    retry_delay,
    window_draft,
)

NOW = datetime(2024, 4, 28, 12, 0, tzinfo=timezone.utc)


def audiences(action, subject_type="team", details=None):
    return [(d.kind, d.audience) for d in drafts_for(EventFacts(action, subject_type, "7", details or {}, "LAGC"))]


@pytest.mark.parametrize(
    "action, subject_type, details, expected",
    [
        ("eligibility.application_submitted", "team", {"verdict": "eligible"}, [("eligibility", "team")]),
        (
            "eligibility.application_submitted",
            "team",
            {"verdict": "needs_review"},
            [("eligibility", "team"), ("review", "organisers")],
        ),
        (
            "eligibility.overridden",
            "team",
            {"status": "ineligible", "justification": "x" * 30},
            [("eligibility", "team")],
        ),
        ("evaluation.finished", "evaluation", {}, [("evaluation", "team")]),
        ("evaluation.failed", "evaluation", {"reason": "out of memory"}, [("evaluation", "team")]),
        ("judging.assigned", "team", {"judge_id": 3}, [("judging", "judge")]),
        ("release.overdue", "release_obligation", {"team_id": 2}, [("release", "team"), ("review", "organisers")]),
        ("award.decided", "team", {}, [("award", "team")]),
        ("licence.checked", "submission", {"verdict": "review"}, [("review", "organisers")]),
        ("licence.checked", "submission", {"verdict": "pass"}, []),
        ("team.registered", "team", {"name": "Acme"}, []),
        ("token.issued", "api_token", {}, []),
    ],
)
def test_each_audit_action_tells_the_right_audience(action, subject_type, details, expected):
    assert audiences(action, subject_type, details) == expected


def test_every_draft_names_a_kind_people_can_switch_off():
    actions = [
        "eligibility.application_submitted",
        "evaluation.failed",
        "judging.assigned",
        "release.accepted",
        "submission.rejected",
        "prize.awarded",
    ]
    for action in actions:
        for draft in drafts_for(EventFacts(action, "team", "1", {"verdict": "needs_review"}, "LAGC")):
            assert draft.kind in KINDS


def test_a_failed_evaluation_says_why():
    (draft,) = drafts_for(EventFacts("evaluation.failed", "evaluation", "9", {"reason": "out of memory"}, "LAGC"))
    assert "out of memory" in draft.body and "#9" in draft.subject


def test_deadline_reminders_go_to_the_people_who_act_before_them():
    ends = NOW + timedelta(hours=20)
    assert window_draft("LAGC", "register", "Team registration", ends).audience == "entrants"
    assert window_draft("LAGC", "apply", "Eligibility applications", ends).audience == "team_members"
    submit = window_draft("LAGC", "submit", "Checkpoint submissions", ends)
    assert submit.audience == "team_members"
    assert submit.subject == "Deadline in less than 48 hours: checkpoint submissions"
    assert "The deadline for checkpoint submissions in LAGC is " in submit.body
    assert deadline_draft("LAGC", "judging", "Judging", ends).audience == "judges"
    for key in ("registration", "submission", "evaluation"):  # entrants' deadlines are their actions' (above)
        assert deadline_draft("LAGC", key, key.title(), ends) is None


def test_a_deadline_is_due_soon_only_within_the_next_48_hours():
    assert is_due_soon(NOW + timedelta(hours=47), NOW)
    assert is_due_soon(NOW + timedelta(hours=48), NOW)
    assert not is_due_soon(NOW + timedelta(hours=49), NOW)
    assert not is_due_soon(NOW - timedelta(seconds=1), NOW)


def test_retries_back_off_exponentially_up_to_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(30) == timedelta(hours=6)


def test_sending_gives_up_after_the_last_attempt():
    assert not gives_up(MAX_ATTEMPTS - 1)
    assert gives_up(MAX_ATTEMPTS)


def test_the_watermark_moves_over_consecutive_events():
    assert advance_watermark(10, [(11, NOW), (12, NOW), (13, NOW)], NOW) == 13


def test_the_watermark_waits_at_a_fresh_gap_that_may_still_commit():
    assert advance_watermark(10, [(11, NOW), (13, NOW), (14, NOW)], NOW) == 11


def test_the_watermark_passes_a_gap_once_it_is_old_enough():
    old = NOW - timedelta(hours=2)
    assert advance_watermark(10, [(11, old), (13, old), (14, NOW)], NOW) == 14


def test_the_watermark_stays_without_new_events():
    assert advance_watermark(10, [], NOW) == 10
