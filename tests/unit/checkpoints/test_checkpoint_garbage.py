"""The pure rule of storage housekeeping: which blobs and folders may go, and why the others stay."""

from __future__ import annotations

import pytest

from app.checkpoints.garbage import Blob, Folder, SubmissionState, plan

HOUR = 3600.0
GRACE = 24 * HOUR
NOW = 1_000_000_000.0
SHA = "ab" + "c" * 62


def blob(age: float, links: int = 1, pinned: bool = False, size: int = 100) -> Blob:
    return Blob(SHA, size, links, NOW - age, pinned)


def folder(age: float, submission_id: int | None = 7, kind: str = "staging", size: int = 50) -> Folder:
    return Folder(kind, str(submission_id), submission_id, size, NOW - age)


def states(*entries: tuple[int, str, float]) -> dict[int, SubmissionState]:
    return {i: SubmissionState(i, status, NOW - ago) for i, status, ago in entries}


def decide(blobs=(), folders=(), pinned=(), submissions=None):
    return plan(blobs, folders, pinned, submissions or {}, NOW, GRACE)


def test_an_unreferenced_blob_older_than_the_grace_period_goes_with_its_bytes():
    result = decide([blob(GRACE + 1, size=800)])
    assert [(d.kind, d.name) for d in result.remove] == [("blob", f"sha256/ab/{'c' * 62}")]
    assert result.bytes == 800 and "no submission links it" in result.remove[0].reason


def test_an_unreferenced_blob_exactly_at_the_grace_period_stays():
    result = decide([blob(GRACE)])
    assert result.remove == () and "grace period" in result.keep[0].reason


def test_a_blob_a_pinned_folder_links_stays_and_is_not_even_listed():
    assert decide([blob(10 * GRACE, links=2)]) == decide([blob(10 * GRACE, pinned=True)]) == decide()


def test_a_pinned_folder_found_by_inode_keeps_a_blob_whose_link_count_says_one():
    assert decide([blob(10 * GRACE, links=1, pinned=True)]).remove == ()


def test_a_submission_still_validating_keeps_any_blob_it_may_have_stored():
    # finalised 3 days ago, its completion stopped after storing the blob 2 days ago
    result = decide([blob(2 * GRACE)], submissions=states((5, "validating", 3 * GRACE)))
    assert result.remove == () and "submission 5 is still being validated" in result.keep[0].reason


def test_a_validating_submission_finalised_after_the_blob_was_last_linked_does_not_keep_it():
    result = decide([blob(3 * GRACE)], submissions=states((5, "validating", GRACE)))
    assert len(result.remove) == 1


def test_the_validating_check_allows_a_grace_period_of_clock_difference():
    # the file server's clock is behind: the blob looks linked 1 h before the submission was finalised
    kept = decide([blob(3 * GRACE + HOUR)], submissions=states((5, "validating", 3 * GRACE)))
    assert kept.remove == ()


@pytest.mark.parametrize("status", ["accepted", "rejected", "receiving"])
def test_only_validating_submissions_hold_unreferenced_blobs(status):
    assert len(decide([blob(2 * GRACE)], submissions=states((5, status, 3 * GRACE))).remove) == 1


@pytest.mark.parametrize("status, words", [("validating", "being validated"), ("receiving", "being received")])
def test_a_submission_in_progress_keeps_its_staging_and_download_folders_however_old(status, words):
    result = decide(
        folders=[folder(10 * GRACE), folder(10 * GRACE, kind="downloads")], submissions=states((7, status, 10 * GRACE))
    )
    assert result.remove == () and all(words in d.reason for d in result.keep)


@pytest.mark.parametrize("status, words", [("rejected", "was refused"), ("accepted", "was accepted")])
def test_a_decided_submissions_left_over_folder_goes_after_the_grace_period(status, words):
    result = decide(folders=[folder(GRACE + 1)], submissions=states((7, status, 2 * GRACE)))
    assert [d.name for d in result.remove] == ["7"] and words in result.remove[0].reason
    assert result.bytes == 50


def test_a_left_over_folder_exactly_at_the_grace_period_stays():
    result = decide(folders=[folder(GRACE)], submissions=states((7, "rejected", 2 * GRACE)))
    assert result.remove == () and "grace period" in result.keep[0].reason


def test_a_folder_of_a_submission_that_no_longer_exists_goes_after_the_grace_period():
    assert decide(folders=[folder(HOUR)]).remove == ()
    assert "no longer exists" in decide(folders=[folder(GRACE + 1)]).remove[0].reason


def test_an_unfinished_pin_goes_once_its_submission_is_decided():
    unfinished = Folder("unfinished pin", ".7.0a1b2c3d", 7, 0, NOW - 2 * GRACE)
    assert decide(folders=[unfinished], submissions=states((7, "validating", 3 * GRACE))).remove == ()
    assert len(decide(folders=[unfinished], submissions=states((7, "accepted", 3 * GRACE))).remove) == 1


def test_a_folder_not_named_after_a_submission_is_left_for_a_person():
    result = decide(folders=[folder(10 * GRACE, submission_id=None)])
    assert result.remove == () and "left for a person" in result.keep[0].reason


def test_pinned_folders_are_never_removed_and_stray_ones_are_reported():
    result = decide(
        pinned=["1", "2", "3", "4"],
        submissions=states((1, "accepted", GRACE), (2, "validating", GRACE), (3, "rejected", GRACE)),
    )
    assert result.remove == ()
    assert {(d.name, d.reason.split(":")[0]) for d in result.keep} == {
        ("3", "belongs to a refused submission"),
        ("4", "belongs to no submission"),
    }
