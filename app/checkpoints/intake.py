"""From received files to a pinned, accepted (or refused) submission.

Two stages, so that no web request ever hashes 60 GB:
- `finalise` (in the request, fast): every file must be complete; the folder is validated on its headers
  and names only (`hash_files=False`). Bad input is refused here with its findings, and its files deleted.
- `complete` (in the scheduler): full validation, which hashes every file once in 1 MiB blocks; the
  hashes are checked against the ones the client announced, the files become read-only content-addressed
  blobs, the submission folder is pinned, and `events.submission_accepted` lets the licence feature record
  its verdict in the same transaction.
Per-chunk sha256 checksums (tus) are verified while streaming; the whole-file hash is verified here,
because hashlib's state cannot be persisted across requests served by different gunicorn workers.
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import datetime
from pathlib import Path
from typing import Iterable

from sqlmodel import Session, delete

from app.accounts.models import User
from app.audit.services import record
from app.challenges.models import Challenge
from app.checkpoints.events import submission_accepted
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus, Upload
from app.checkpoints.services import IntakeError, claim, create_submission, start_upload, storage_of, uploads_of
from app.checkpoints.storage import Storage, remove_tree
from app.checkpoints.validation import ValidationReport, validate_checkpoint
from app.db import utcnow
from app.errors import Kind
from app.settings import Settings
from app.teams.models import Team

log = logging.getLogger("lagc.checkpoints")
CHUNK_BYTES = 8 * 1024 * 1024


def finalise(session: Session, settings: Settings, submission: Submission, actor_id: int | None) -> Submission:
    """The entrant says every file is there: check the names and headers now, hash later in the scheduler.

    The claim comes first: the status moves from receiving to validating by a compare-and-set whose lock
    lasts until the caller commits, so of many finalises sent at once exactly one reads the uploads, stages
    and checks the files; the others are refused (409) without touching them. Any refusal below rolls the
    claim back with the caller's transaction. Refused submissions keep their findings and lose their files.
    """
    claim(session, submission, SubmissionStatus.receiving, status=SubmissionStatus.validating, finalised_at=utcnow())
    uploads = uploads_of(session, submission.id)
    if not uploads:
        raise IntakeError(Kind.invalid, "Upload at least the config.json and the weights before finalising.")
    unfinished = [f"{u.filename} ({u.offset:,} of {u.length:,} bytes)" for u in uploads if u.offset < u.length]
    if unfinished:
        raise IntakeError(Kind.conflict, "Some files have not finished uploading: " + ", ".join(unfinished))
    store = storage_of(settings)
    folder = store.stage(submission.id, [(u.filename, store.part_path(u.id)) for u in uploads])
    report = validate_checkpoint(folder, hash_files=False)
    if not report.ok:
        return reject(session, settings, submission, report.errors, report.warnings, actor_id=actor_id)
    submission.findings = {"errors": [], "warnings": list(report.warnings)}
    submission.total_bytes = report.total_bytes
    session.add(submission)
    record(
        session,
        "submission.finalised",
        "submission",
        submission.id,
        actor_id=actor_id,
        challenge_id=submission.challenge_id,
        files=len(uploads),
        bytes=report.total_bytes,
    )
    return submission


def reject(
    session: Session,
    settings: Settings,
    submission: Submission,
    errors: Iterable[str],
    warnings: Iterable[str] = (),
    actor_id: int | None = None,
) -> Submission:
    """Refuse a submission: record why and delete everything it left in storage (it does not count),
    including a folder an earlier run pinned before it crashed (a rerun may find errors the first did not,
    e.g. after the architecture list changed), so its blobs can be collected."""
    store = storage_of(settings)
    discard_files(session, store, submission)
    if submission.status != SubmissionStatus.accepted:  # never called on accepted ones; kept as a guard
        remove_tree(store.submission_dir(submission.id))
    submission.status = SubmissionStatus.rejected
    submission.decided_at = utcnow()
    submission.findings = {"errors": list(errors), "warnings": list(warnings)}
    submission.hub_token_encrypted = None
    session.add(submission)
    record(
        session,
        "submission.rejected",
        "submission",
        submission.id,
        actor_id=actor_id,
        challenge_id=submission.challenge_id,
        errors=submission.findings["errors"][:20],
    )
    return submission


def discard_files(session: Session, store: Storage, submission: Submission) -> None:
    """Delete a submission's upload parts, their rows, and its staging and download folders."""
    for upload in uploads_of(session, submission.id):
        store.remove_part(upload.id)
    session.execute(delete(Upload).where(Upload.submission_id == submission.id))
    remove_tree(store.staging(submission.id))
    remove_tree(store.download_dir(submission.id))


def complete(session: Session, settings: Settings, submission: Submission) -> Submission:
    """Hash, verify, store and pin a finalised submission, then accept it (or refuse it with findings).

    Safe to run again after a crash at any point: parts are removed only once the folder is pinned.
    """
    store = storage_of(settings)
    folder = _folder_to_validate(session, store, submission)
    report = validate_checkpoint(folder)
    errors = list(report.errors) + _declared_hash_errors(session, submission, report)
    if errors:
        return reject(session, settings, submission, errors, report.warnings)
    if folder != store.submission_dir(submission.id):
        for info in report.files:
            store.store_blob(folder / info.name, info.sha256)
        folder = store.pin(submission.id, [(info.name, info.sha256) for info in report.files])
    discard_files(session, store, submission)
    _accept(session, submission, report, folder)
    return submission


def _folder_to_validate(session: Session, store: Storage, submission: Submission) -> Path:
    """The pinned folder if an earlier run got that far; else the staged files."""
    if store.submission_dir(submission.id).exists():
        return store.submission_dir(submission.id)
    if submission.source == SubmissionSource.upload:
        uploads = uploads_of(session, submission.id)
        return store.stage(submission.id, [(u.filename, store.part_path(u.id)) for u in uploads])
    return store.staging(submission.id)  # filled by the Hub download step


def _declared_hash_errors(session: Session, submission: Submission, report: ValidationReport) -> list[str]:
    """Files whose sha256 differs from the one the client announced when it started the upload."""
    hashes = {info.name: info.sha256 for info in report.files}
    return [
        f"{u.filename}: its sha256 is {hashes[u.filename]}, not {u.declared_sha256} as announced "
        "(the file changed or was corrupted on the way; upload it again)"
        for u in uploads_of(session, submission.id)
        if u.declared_sha256 and u.filename in hashes and hashes[u.filename] != u.declared_sha256
    ]


def _accept(session: Session, submission: Submission, report: ValidationReport, folder: Path) -> None:
    """Record what validation found, announce the acceptance (the licence verdict), and audit it."""
    submission.manifest = [{"name": f.name, "bytes": f.bytes, "sha256": f.sha256} for f in report.files]
    submission.parameters = report.parameters
    submission.dtypes = dict(report.dtypes)
    submission.total_bytes = report.total_bytes
    submission.findings = {"errors": [], "warnings": list(report.warnings)}
    submission.status = SubmissionStatus.accepted
    submission.accepted_at = submission.decided_at = utcnow()
    session.add(submission)
    submission_accepted.send(submission, session=session, submission=submission, folder=folder)
    record(
        session,
        "submission.accepted",
        "submission",
        submission.id,
        challenge_id=submission.challenge_id,
        parameters=report.parameters,
        bytes=report.total_bytes,
        files={f.name: f.sha256 for f in report.files},
    )


def submit_folder(
    session: Session,
    settings: Settings,
    user: User,
    challenge: Challenge,
    label: str,
    folder: Path,
    baseline: Team | None = None,
    submitted_at: datetime | None = None,
) -> Submission:
    """Submit the files of `folder` as `user` (for a `baseline` team, an organiser) through the upload
    intake, and complete it (the demo and the organisers' baselines; files of a few megabytes); `submitted_at`:
    the moment it counts as started (phase gate and limits)."""
    submission = create_submission(session, user, challenge, label, baseline=baseline, now=submitted_at)
    session.commit()
    store = storage_of(settings)
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        data = path.read_bytes()
        upload = start_upload(
            session, settings, user, submission, path.name, len(data), hashlib.sha256(data).hexdigest()
        )
        with store.open_part(upload.id) as part:
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start : start + CHUNK_BYTES]
                upload.offset = part.append(start, io.BytesIO(chunk), len(chunk), hashlib.sha256(chunk).digest())
        session.add(upload)
        session.commit()
    finalise(session, settings, submission, user.id)
    complete(session, settings, submission)
    session.flush()
    return submission
