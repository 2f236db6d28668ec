"""Why a final score has no ± (no standard error), in words: one judge (a single opinion has no spread), or a
benchmark task without a standard error; nothing to explain when the score has its ±."""

from scoring import stderr_note


def test_a_score_with_its_standard_error_or_no_score_at_all_needs_no_note():
    assert stderr_note(0.61, 0.02, benchmark_stderr=0.01, judges=0.7, judges_stderr=0.03) is None
    assert stderr_note(None, None, benchmark_stderr=None, judges=None, judges_stderr=None) is None


def test_one_judge_is_named_as_the_reason():
    note = stderr_note(0.61, None, benchmark_stderr=0.01, judges=0.7, judges_stderr=None)
    assert note.short == "one judge"
    assert "one judge scored this entry" in note.why and "no spread" in note.why


def test_a_task_without_a_standard_error_is_named_as_the_reason():
    note = stderr_note(0.61, None, benchmark_stderr=None, judges=0.7, judges_stderr=0.03)
    assert note.short == "no task SE" and "benchmark task reported no standard error" in note.why


def test_both_reasons_are_given_when_both_hold():
    note = stderr_note(0.61, None, benchmark_stderr=None, judges=0.7, judges_stderr=None)
    assert "one judge" in note.why and "benchmark task" in note.why and note.short == "one judge"


def test_a_judges_score_alone_is_explained_by_its_judges_only():
    note = stderr_note(0.7, None, benchmark_stderr=None, judges=0.7, judges_stderr=None, part="judges")
    assert note.short == "one judge" and "benchmark" not in note.why
