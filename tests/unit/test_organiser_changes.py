"""The change summary of a configuration edit, in words: pure."""

from app.challenges.config import parse_config
from app.organiser.changes import outline, summarise, unified_diff
from app.settings import BUNDLED_CHALLENGES

TEXT = (BUNDLED_CHALLENGES / "lagc-2024.toml").read_text(encoding="utf-8")
OLD = parse_config(TEXT)


def _changes(new_text: str) -> list[str]:
    return summarise(OLD, parse_config(new_text))


def test_an_unchanged_file_changes_nothing():
    assert _changes(TEXT) == [] and unified_diff(TEXT, TEXT) == []


def test_a_moved_phase_is_told_with_its_old_and_new_dates():
    moved = TEXT.replace("ends = 2025-06-26T08:00:00Z", "ends = 2025-07-01T08:00:00Z")
    assert _changes(moved) == ["Phase 'award' ends 2025-07-01 08:00 UTC instead of 2025-06-26 08:00 UTC."]


def test_a_phase_allowing_other_actions_is_told():
    late = TEXT.replace(
        "ends = 2024-04-30T15:00:00Z   # unconfirmed", 'ends = 2024-04-30T15:00:00Z\nallows = ["apply", "submit"]'
    )
    assert _changes(late) == ["Phase 'submission' allows apply, submit instead of submit."]


def test_prize_changes_are_told_in_euros():
    assert _changes(TEXT.replace("pool_eur = 1_000_000", "pool_eur = 1_200_000")) == [
        "Prize pool: EUR 1,000,000 becomes EUR 1,200,000."
    ]


def test_tasks_removed_and_changed_are_told_by_name():
    without_gsm8k = TEXT.replace('name = "gsm8k"', 'name = "gsm8k_cot"')
    changes = _changes(without_gsm8k.replace("num_fewshot = 25", "num_fewshot = 5"))
    assert "The benchmark task 'gsm8k_cot' is added." in changes
    assert "The benchmark task 'gsm8k' is removed." in changes
    assert "The benchmark task 'arc_challenge' changes: num_fewshot 25 → 5." in changes


def test_rubric_and_other_sections_are_told():
    changes = _changes(
        TEXT.replace('title = "Openness"', 'title = "Open science"').replace(
            "submissions_per_day = 3", "submissions_per_day = 5"
        )
    )
    assert "The rubric criterion 'openness' changes: title 'Openness' → 'Open science'." in changes
    assert "[limits] submissions_per_day: 3 → 5." in changes


def test_a_new_challenge_is_summarised_and_the_diff_lines_are_classified():
    assert summarise(None, OLD)[0].startswith("New challenge 'lagc-2024'")
    kinds = {line.kind for line in unified_diff("a\nb\n", "a\nc\n")}
    assert kinds == {"file", "hunk", "same", "remove", "add"}


def test_the_outline_lists_phases_tasks_rubric_clusters_and_rules():
    o = outline(OLD)
    assert [p.key for p in o["phases"]][0] == "registration"
    assert len(o["rubric"]) == 5 and o["clusters"] == ["leonardo-booster", "lumi-g"] and "sme" in o["rules"]
