"""Submissions whose files the store no longer has: after a restore from a backup taken during intake.

A backup keeps the database and the durable store (blobs, pinned folders) but not the transient `uploads/`,
`staging/` and `downloads/` (see README, Backup and restore): copying 60 GB half-uploads at an instant that
matches the database's snapshot is neither cheap nor consistent. So a restored instance may hold submissions
whose files are gone: uploads in progress without their part files, and finalised submissions waiting for
the intake without their files. The intake cannot finish those, so it resets them to a state the entrant can
act on, in the scheduler's first cycle after the restore (and whenever files go missing otherwise):

- an upload whose part file is gone (or shorter than its confirmed bytes) is deleted: its tus URL answers
  404, and the file can be uploaded again under the same name;
- a finalised upload submission that lost a file goes back to receiving, to be finalised again;
- a Hub submission whose downloaded files are gone goes back to receiving, to be downloaded again.

Each reset is written into the submission's warnings (shown on its page and in the API) and the audit log.
"""

from __future__ import annotations

from sqlmodel import Session, delete, select

from app.audit.services import record
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus, Upload
from app.checkpoints.services import IntakeError, claim, storage_of, uploads_of
from app.checkpoints.storage import Storage, remove_tree
from app.db import utcnow
from app.ops.steps import for_each
from app.settings import Settings

LOST = (
    "The platform was restored from a backup taken while these files were arriving, and their bytes were "
    "not in it: {names}. Upload them again{then}."
)


def lost_uploads(store: Storage, uploads: list[Upload]) -> list[Upload]:
    """The uploads whose part file is missing or holds fewer bytes than were confirmed."""
    lost = []
    for upload in uploads:
        try:
            short = store.part_path(upload.id).stat().st_size < upload.offset
        except FileNotFoundError:
            short = True
        if short:
            lost.append(upload)
    return lost


def recover_lost_files(session: Session, settings: Settings) -> None:
    """Reset every unfinished submission whose files the store lost (see the module's docstring)."""
    unfinished = session.exec(
        select(Submission)
        .where(Submission.status.in_([SubmissionStatus.receiving, SubmissionStatus.validating]))
        .order_by(Submission.id)
    ).all()
    for_each(
        session,
        unfinished,
        lambda submission: recover(session, settings, submission),
        commit=True,
        what="recovery of submission",
    )


def recover(session: Session, settings: Settings, submission: Submission) -> bool:
    """Reset one submission if the store lost its files; True when it did. Under the submission's lock, so
    an entrant's finalise at the same moment either sees the reset or is refused."""
    store = storage_of(settings)
    if store.submission_dir(submission.id).exists():
        return False  # pinned: the intake finishes from the pinned folder
    if submission.source == SubmissionSource.hub:
        return _recover_download(session, store, submission)
    lost = lost_uploads(store, uploads_of(session, submission.id))
    if not lost:
        return False
    finalised = submission.status == SubmissionStatus.validating
    try:
        claim(session, submission, submission.status, status=SubmissionStatus.receiving, finalised_at=None)
    except IntakeError:  # finalised, refused or reset meanwhile: the next cycle looks again
        return False
    names = sorted(upload.filename for upload in lost)
    for upload in lost:
        store.remove_part(upload.id)
    session.execute(delete(Upload).where(Upload.id.in_([upload.id for upload in lost])))
    remove_tree(store.staging(submission.id))
    _warn(
        session,
        submission,
        LOST.format(names=", ".join(names), then=", then finalise the submission again" if finalised else ""),
        lost=names,
    )
    return True


def _recover_download(session: Session, store: Storage, submission: Submission) -> bool:
    """A Hub submission waiting for the intake whose downloaded files are gone: download it again."""
    if submission.status != SubmissionStatus.validating or store.staging(submission.id).exists():
        return False
    try:
        claim(session, submission, SubmissionStatus.validating, status=SubmissionStatus.receiving, finalised_at=None)
    except IntakeError:
        return False
    _warn(
        session,
        submission,
        "The platform was restored from a backup taken while this revision was being "
        "checked, and the downloaded files were not in it: they are downloaded again.",
        lost=[entry["name"] for entry in submission.manifest],
    )
    return True


def _warn(session: Session, submission: Submission, message: str, lost: list[str]) -> None:
    """Say what happened in the submission's warnings (its page and the API) and in the audit log."""
    findings = dict(submission.findings or {})
    findings["warnings"] = [*findings.get("warnings", []), message]
    findings.setdefault("errors", [])
    submission.findings = findings
    session.add(submission)
    record(
        session,
        "submission.files_lost",
        "submission",
        submission.id,
        challenge_id=submission.challenge_id,
        files=lost,
        at=utcnow().isoformat(),
    )
