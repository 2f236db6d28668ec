"""Storage housekeeping: unused blobs and left-over folders go after the grace period; nothing an accepted
or still validating submission needs ever does. Ages are judged at a `now` passed in, never waited for."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from tests.factories import checkpoint_files
from tests.helpers import storage_tree

GRACE = 24 * 3600


def later(seconds: float = GRACE + 60) -> float:
    """A moment `seconds` from now (the default: just past the grace period of what is stored now)."""
    return time.time() + seconds


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_of(storage, data: bytes):
    digest = sha(data)
    return storage / "blobs" / "sha256" / digest[:2] / digest[2:]


def finalised(entrant, files: dict[str, bytes], label: str) -> int:
    submission = entrant.start(label)
    entrant.upload_all(submission, files)
    assert entrant.finalise(submission).status_code == 202
    return submission


def stored_not_pinned(app, submission: int, files: dict[str, bytes]) -> None:
    """What `intake.complete` does before it pins: every staged file becomes a blob; then it stops."""
    from app.checkpoints.services import storage_of

    store = storage_of(app.config["LAGC"])
    for name, data in files.items():
        store.store_blob(store.staging(submission) / name, sha(data))


def refuse(app, db, submission: int) -> None:
    from app.checkpoints.intake import reject
    from app.checkpoints.models import Submission

    with db() as session:
        reject(session, app.config["LAGC"], session.get(Submission, submission), ["refused after storing"])


def stored_then_refused(app, db, entrant, files: dict[str, bytes], label: str = "refused") -> int:
    submission = finalised(entrant, files, label)
    stored_not_pinned(app, submission, files)
    refuse(app, db, submission)
    return submission


def collect(app, db, **options):
    from app.checkpoints.housekeeping import collect as run

    with db() as session:
        return run(session, app.config["LAGC"], **options)


def gc_events(db) -> list:
    from app.audit.models import AuditEvent

    with db() as session:
        return [e.details for e in session.exec(select(AuditEvent).where(AuditEvent.action == "storage.collected"))]


def test_a_refused_submissions_blobs_go_after_the_grace_period_and_not_before(app, db, entrant, storage):
    files = checkpoint_files(seed=3)
    stored_then_refused(app, db, entrant, files)
    blobs = [blob_of(storage, data) for data in files.values()]
    assert all(b.stat().st_nlink == 1 for b in blobs)
    early = collect(app, db, now=later(GRACE - 3600))
    assert early.removed == [] and all(b.exists() for b in blobs)
    assert {d.reason.split(" (")[0] for d in early.plan.keep} == {"unlinked for 23.0 h only"}
    done = collect(app, db, now=later())
    assert not any(b.exists() for b in blobs)
    assert done.counts()["blob"] == len(files) and done.bytes == sum(len(d) for d in files.values())
    assert gc_events(db) == [
        {
            "trigger": "scheduler",
            "bytes": done.bytes,
            "blob": len(files),
            "staging": 0,
            "downloads": 0,
            "unfinished_pin": 0,
            "removed": [f"blob {d.name}" for d in done.removed],
        }
    ]


def test_an_accepted_submissions_blobs_and_folder_stay(app, db, entrant, storage):
    files = checkpoint_files()
    submission = finalised(entrant, files, "accepted")
    entrant.run_jobs()
    assert entrant.get(submission)["status"] == "accepted"
    before = storage_tree(storage)
    outcome = collect(app, db, now=later(30 * GRACE))
    assert outcome.removed == [] and outcome.plan.keep == ()
    assert storage_tree(storage) == before and gc_events(db) == []
    assert sorted(os.listdir(storage / "submissions" / str(submission))) == sorted(files)


def test_a_blob_shared_with_an_accepted_submission_stays_when_the_other_is_refused(app, db, eligible_team, storage):
    first, second = eligible_team("ana@aurora.eu", "Aurora Labs"), eligible_team("bo@baltic.eu", "Baltic")
    shared = checkpoint_files(seed=0)
    accepted = finalised(first, shared, "accepted")
    first.run_jobs()
    assert first.get(accepted)["status"] == "accepted"
    own = dict(shared, **{"model.safetensors": checkpoint_files(seed=1)["model.safetensors"]})
    stored_then_refused(app, db, second, own)
    outcome = collect(app, db, now=later())
    assert [d.name for d in outcome.removed] == [
        f"sha256/{sha(own['model.safetensors'])[:2]}/{sha(own['model.safetensors'])[2:]}"
    ]
    for data in shared.values():
        assert blob_of(storage, data).read_bytes() == data
    assert sorted(os.listdir(storage / "submissions" / str(accepted))) == sorted(shared)


def test_a_submission_still_validating_keeps_the_blobs_it_stored_and_then_pins_them(app, db, eligible_team, storage):
    """The race: blobs stored (one reused from a refused submission), not yet linked into the folder."""
    refused_by, completing = eligible_team("ana@aurora.eu", "Aurora Labs"), eligible_team("bo@baltic.eu", "Baltic")
    files = checkpoint_files(seed=5)
    stored_then_refused(app, db, refused_by, files)  # leaves unlinked blobs identical to the next files
    submission = finalised(completing, files, "completing")
    stored_not_pinned(app, submission, files)  # reuses every blob; the completion stops before pin
    for part in (storage / "uploads").iterdir():  # the worst case: nothing else links the blobs (the staged
        part.unlink()  # files, which do, lost too), so the state must keep them
    for staged in (storage / "staging" / str(submission)).iterdir():
        staged.unlink()
    assert all(blob_of(storage, d).stat().st_nlink == 1 for d in files.values())
    outcome = collect(app, db, now=later(3 * GRACE))
    assert outcome.removed == []
    assert {d.reason for d in outcome.plan.keep if d.kind == "blob"} == {
        f"submission {submission} is still being validated and may link it"
    }
    assert any(d.kind == "staging" and d.name == str(submission) for d in outcome.plan.keep)
    from app.checkpoints.services import storage_of

    storage_of(app.config["LAGC"]).pin(submission, [(n, sha(d)) for n, d in files.items()])  # it carries on
    assert all(blob_of(storage, d).stat().st_nlink == 2 for d in files.values())


def test_left_over_staging_and_download_folders_go_only_once_their_submission_is_decided(app, db, entrant, storage):
    files = checkpoint_files(seed=2)
    validating = finalised(entrant, files, "validating")
    refused = stored_then_refused(app, db, entrant, checkpoint_files(seed=4), "refused")
    (storage / "downloads" / str(refused)).mkdir(parents=True)  # a download killed before its `finally`
    (storage / "downloads" / str(refused) / "model.safetensors").write_bytes(b"x" * 10)
    (storage / "staging" / "999999").mkdir()  # a submission that does not exist (a forced restore)
    outcome = collect(app, db, now=later())
    assert {(d.kind, d.name) for d in outcome.removed if d.kind != "blob"} == {
        ("downloads", str(refused)),
        ("staging", "999999"),
    }
    assert not (storage / "downloads" / str(refused)).exists() and not (storage / "staging" / "999999").exists()
    assert sorted(os.listdir(storage / "staging" / str(validating))) == sorted(files)
    assert (storage / "staging" / ".blobs.lock").exists() and not list(storage.rglob(".gc-*"))


def test_an_unfinished_pin_and_a_half_deleted_folder_are_finished_off(app, db, entrant, storage):
    files = checkpoint_files(seed=6)
    submission = finalised(entrant, files, "accepted")
    entrant.run_jobs()
    unfinished = storage / "submissions" / f".{submission}.0a1b2c3d"  # a pin killed before its rename
    unfinished.mkdir()
    os.link(storage / "submissions" / str(submission) / "config.json", unfinished / "config.json")
    os.chmod(unfinished, 0o555)
    trash = storage / "staging" / ".gc-12-deadbeef"  # a run killed while it deleted a folder
    (trash / "inner").mkdir(parents=True)
    os.chmod(trash / "inner", 0o555)
    outcome = collect(app, db, now=later())
    assert [(d.kind, d.name) for d in outcome.removed] == [("unfinished pin", unfinished.name)]
    assert not unfinished.exists() and not trash.exists()
    assert sorted(os.listdir(storage / "submissions" / str(submission))) == sorted(files)


def test_the_cli_dry_run_lists_what_would_go_and_removes_nothing(app, db, entrant, storage):
    files = checkpoint_files(seed=7)
    stored_then_refused(app, db, entrant, files)
    before = storage_tree(storage)
    as_of = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    result = app.test_cli_runner().invoke(args=["checkpoint", "gc", "--dry-run", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    total = sum(len(d) for d in files.values())
    assert f"would remove blob sha256/{sha(files['config.json'])[:2]}/" in result.output
    assert result.output.strip().endswith(f"would remove {len(files)} blob; {total:,} bytes would be freed")
    assert storage_tree(storage) == before and gc_events(db) == []
    refused = app.test_cli_runner().invoke(args=["checkpoint", "gc", "--as-of", as_of])
    assert refused.exit_code != 0 and "--as-of only goes with --dry-run" in refused.output
    now = app.test_cli_runner().invoke(args=["checkpoint", "gc"])  # within the grace period: kept
    assert now.exit_code == 0 and "removed nothing; 0 bytes freed" in now.output
    assert "unlinked for 0.0 h only (grace period)" in now.output and storage_tree(storage) == before


def test_the_scheduler_step_walks_the_store_at_most_once_an_hour(app, db, entrant, storage, monkeypatch):
    from sqlmodel import Session

    from app.checkpoints import jobs

    monkeypatch.setattr(jobs, "_last_gc", [float("-inf")])

    def step() -> None:
        with Session(app.extensions["lagc_engine"]) as session:
            jobs.collect_storage_garbage(session, app.config["LAGC"], now=later())
            session.commit()

    assert jobs.collect_storage_garbage in jobs.STEPS
    first = checkpoint_files(seed=8)
    stored_then_refused(app, db, entrant, first, "first")
    step()
    assert not blob_of(storage, first["model.safetensors"]).exists()
    second = checkpoint_files(seed=9)
    stored_then_refused(app, db, entrant, second, "second")
    step()  # within the hour: returns without walking
    assert blob_of(storage, second["model.safetensors"]).exists() and len(gc_events(db)) == 1
    jobs._last_gc[0] -= jobs.GC_EVERY_SECONDS  # an hour later
    step()
    assert not blob_of(storage, second["model.safetensors"]).exists()
    assert [e["blob"] for e in gc_events(db)] == [len(first), len(second)]


@pytest.mark.parametrize("kind", ["blob", "folder"])
def test_an_entry_that_changed_after_the_walk_is_kept(app, db, entrant, storage, kind):
    from app.checkpoints import garbage, housekeeping
    from app.checkpoints.services import storage_of

    files = checkpoint_files(seed=10)
    refused = stored_then_refused(app, db, entrant, files)
    (storage / "staging" / str(refused)).mkdir()
    store = storage_of(app.config["LAGC"])
    found = housekeeping.scan(store)
    if kind == "blob":  # another submission links it after the walk
        digest = sha(files["config.json"])
        os.link(store.blob_path(digest), storage / "elsewhere")
        decision = garbage.Decision("blob", f"sha256/{digest[:2]}/{digest[2:]}", 1, "test")
        assert housekeeping._remove_blob(store, found, decision) == "linked or changed since the walk: kept"
        assert store.blob_path(digest).exists()
    else:  # a file arrives in it after the walk
        (storage / "staging" / str(refused) / "new").write_bytes(b"new")
        decision = garbage.Decision("staging", str(refused), 0, "test")
        assert housekeeping._remove_folder(found, decision) == "changed since the walk: kept"
        assert (storage / "staging" / str(refused) / "new").exists()


def test_a_completion_that_crashed_between_storing_and_pinning_is_accepted_when_run_again(app, db, entrant, storage):
    """A Hub submission validates its staged folder as the download left it: storing the blobs must leave
    the staged files in place, or the rerun finds them missing and refuses a sound checkpoint."""
    from app.checkpoints.intake import complete, discard_files
    from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus
    from app.checkpoints.services import storage_of

    files = checkpoint_files(seed=7)
    submission = finalised(entrant, files, "hub-like")
    store = storage_of(app.config["LAGC"])
    with db() as session:  # make it look like a finished Hub download: no upload parts, a staged folder
        row = session.get(Submission, submission)
        discard_files(session, store, row)
        store.staging(submission).mkdir(parents=True)
        for name, data in files.items():
            (store.staging(submission) / name).write_bytes(data)
        row.source = SubmissionSource.hub
    stored_not_pinned(app, submission, files)  # the crash: every blob stored, the folder not pinned
    with db() as session:
        row = complete(session, app.config["LAGC"], session.get(Submission, submission))
        assert row.status == SubmissionStatus.accepted, row.findings
    assert not store.staging(submission).exists()
    assert all(blob_of(storage, d).stat().st_nlink == 2 for d in files.values())  # the blob and the pinned link


def test_a_submission_refused_after_an_earlier_run_pinned_it_leaves_no_folder(app, db, entrant, storage):
    """A rerun may refuse what a crashed run pinned (e.g. the architecture list changed meanwhile): the
    pinned folder goes with the refusal, so its blobs can be collected."""
    from app.checkpoints.services import storage_of

    files = checkpoint_files(seed=8)
    submission = finalised(entrant, files, "pinned then refused")
    stored_not_pinned(app, submission, files)
    storage_of(app.config["LAGC"]).pin(submission, [(n, sha(d)) for n, d in files.items()])
    refuse(app, db, submission)
    assert not (storage / "submissions" / str(submission)).exists()
    assert all(blob_of(storage, d).stat().st_nlink == 1 for d in files.values())
    assert {d.name for d in collect(app, db, now=later()).removed if d.kind == "blob"} == {
        f"sha256/{sha(d)[:2]}/{sha(d)[2:]}" for d in files.values()
    }
