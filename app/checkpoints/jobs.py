"""Scheduler steps for checkpoint intake: reset submissions whose files were lost (a restore), download Hub
submissions, complete finalised submissions (hash, store, pin, accept), clean up abandoned uploads, and
(hourly) delete unused blobs and left-over folders. Each step keeps its state in the database (or on disk)
and can be killed at any point; the next cycle carries on from the rows. Each works through its items with
`app.ops.steps.for_each`: one that fails is rolled back, logged and counted, and the others go on."""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.models import Challenge
from app.checkpoints import hub
from app.checkpoints.housekeeping import collect
from app.checkpoints.intake import complete, reject
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus, Upload
from app.checkpoints.recovery import recover_lost_files
from app.checkpoints.services import IntakeError, claim, limits_of, storage_of
from app.checkpoints.storage import remove_tree
from app.checkpoints.validation import validate_checkpoint
from app.db import utcnow
from app.ops.steps import for_each
from app.settings import Settings

log = logging.getLogger("lagc.checkpoints")


def download_hub_submissions(session: Session, settings: Settings) -> None:
    """Download the accepted files of each Hub submission still receiving, then check their headers."""
    waiting = session.exec(
        select(Submission).where(
            Submission.source == SubmissionSource.hub, Submission.status == SubmissionStatus.receiving
        )
    ).all()
    for_each(
        session,
        waiting,
        lambda submission: download_submission(session, settings, submission),
        commit=True,
        what="Hub download of submission",
    )


def download_submission(session: Session, settings: Settings, submission: Submission) -> None:
    """One Hub download at the pinned commit; the token is erased afterwards whatever happened."""
    store = storage_of(settings)
    into = store.download_dir(submission.id)
    token = hub.decrypt_token(settings, submission.hub_token_encrypted)
    names = [entry["name"] for entry in submission.manifest]
    try:
        remove_tree(into)
        folder = hub.download(submission.hub_repo, submission.hub_commit, names, token, settings.hub_endpoint, into)
        staged = store.stage(submission.id, [(name, folder / name) for name in names])
    except (hub.HubError, OSError) as error:
        reject(session, settings, submission, [f"The download from the Hub failed: {error}"])
        return
    finally:
        submission.hub_token_encrypted = None  # erased after the download, whatever its outcome
        remove_tree(into)
    report = validate_checkpoint(staged, hash_files=False)
    too_big = report.total_bytes > limits_of(session.get(Challenge, submission.challenge_id)).max_bytes_per_submission
    errors = list(report.errors) + (["The downloaded files are larger than the submission limit."] if too_big else [])
    submission.finalised_at = utcnow()
    if errors:
        reject(session, settings, submission, errors, report.warnings)
        return
    submission.status = SubmissionStatus.validating
    session.add(submission)
    record(
        session,
        "submission.downloaded",
        "submission",
        submission.id,
        challenge_id=submission.challenge_id,
        repo=submission.hub_repo,
        commit=submission.hub_commit,
        bytes=report.total_bytes,
    )


def complete_submissions(session: Session, settings: Settings) -> None:
    """Hash, store, pin and accept (or refuse) every finalised submission; one that fails (its files lost, a
    disk error) is logged and counted, and the others are still accepted."""
    waiting = session.exec(
        select(Submission).where(Submission.status == SubmissionStatus.validating).order_by(Submission.id)
    ).all()
    for_each(
        session,
        waiting,
        lambda submission: complete(session, settings, submission),
        commit=True,
        what="intake of submission",
    )


def clean_abandoned_uploads(session: Session, settings: Settings) -> None:
    """Delete expired uploads (row and part file), refuse upload submissions left with nothing, and remove
    part files no row knows (a crash between creating the file and recording it)."""
    now = utcnow()
    expired = session.exec(
        select(Upload)
        .join(Submission, Submission.id == Upload.submission_id)
        .where(Upload.expires_at < now, Submission.status == SubmissionStatus.receiving)
    ).all()
    for_each(session, expired, lambda upload: _expire(session, settings, upload), what="expired upload")
    _refuse_abandoned_submissions(session, settings, now)
    _remove_orphan_parts(session, settings)


def _expire(session: Session, settings: Settings, upload: Upload) -> None:
    """Delete one expired upload, under its submission's lock (a finalise at the same moment wins or waits)."""
    submission = session.get(Submission, upload.submission_id)
    try:
        claim(session, submission, SubmissionStatus.receiving)
    except IntakeError:  # finalised meanwhile: its files are no longer abandoned
        return
    storage_of(settings).remove_part(upload.id)
    session.delete(upload)
    session.flush()
    record(session, "upload.expired", "upload", upload.id, filename=upload.filename, submission_id=upload.submission_id)


def _refuse_abandoned_submissions(session: Session, settings: Settings, now) -> None:
    """An upload submission with no upload left, older than the expiry, was abandoned: it stops counting."""
    receiving = session.exec(
        select(Submission).where(
            Submission.source == SubmissionSource.upload, Submission.status == SubmissionStatus.receiving
        )
    ).all()
    for_each(
        session,
        receiving,
        lambda submission: _refuse_if_abandoned(session, settings, submission, now),
        what="abandoned submission",
    )


def _refuse_if_abandoned(session: Session, settings: Settings, submission: Submission, now) -> None:
    hours = limits_of(session.get(Challenge, submission.challenge_id)).upload_expiry_hours
    has_uploads = session.exec(select(Upload.id).where(Upload.submission_id == submission.id)).first()
    if has_uploads is None and submission.created_at + timedelta(hours=hours) < now:
        reject(
            session,
            settings,
            submission,
            [f"Abandoned: no file arrived for {hours} hours, so the uploads were deleted."],
        )


def _remove_orphan_parts(session: Session, settings: Settings) -> None:
    """Part files older than a day that no upload row names."""
    folder = storage_of(settings).uploads
    if not folder.is_dir():
        return
    known = set(session.exec(select(Upload.id)).all())
    cutoff = time.time() - 24 * 3600

    def remove(entry: os.DirEntry) -> None:
        if entry.name.removesuffix(".part") not in known and entry.stat(follow_symlinks=False).st_mtime < cutoff:
            os.unlink(entry.path)
            log.info("removed orphan upload part %s", entry.name)

    for_each(session, list(os.scandir(folder)), remove, key=lambda entry: entry.name, what="orphan part")


GC_EVERY_SECONDS = 3600
_last_gc = [float("-inf")]


def collect_storage_garbage(session: Session, settings: Settings, now: float | None = None) -> None:
    """Storage housekeeping (`housekeeping.py`), at most once an hour per scheduler process, since it walks
    the store; otherwise it returns at once. Last in the cycle, after this cycle's completions and refusals."""
    if time.monotonic() - _last_gc[0] < GC_EVERY_SECONDS:
        return
    _last_gc[0] = time.monotonic()  # marked before the walk, so a failing walk is not retried every cycle
    collect(session, settings, now=now, trigger="scheduler")


STEPS = [
    recover_lost_files,
    download_hub_submissions,
    complete_submissions,
    clean_abandoned_uploads,
    collect_storage_garbage,
]
