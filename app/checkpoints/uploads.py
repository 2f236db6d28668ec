"""A tus 1.0 server (core, creation, checksum, termination, expiration) for checkpoint files.

There is no well-kept tus server library for Flask, so the protocol is implemented here (the header
parsing is in `tus.py`). The handlers are mounted twice: under /api/v1/uploads for scripts (Bearer token)
and under /uploads for the browser (session cookie + X-CSRFToken header). One tus upload carries one file
of a submission; its `Upload-Metadata` names the file (`filename`), the submission (`submission`) and,
optionally, the file's sha256 (`sha256`, hex), verified when the submission is completed.
Bodies are streamed to disk in 1 MiB blocks straight from the WSGI input, never held in memory.
"""

from __future__ import annotations

import functools
import json
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Callable, Iterator

from flask import Response, request
from sqlalchemy import delete, select

from app.api.problems import problem, status_of
from app.challenges.models import Challenge
from app.checkpoints import tus
from app.checkpoints.filenames import check_filename
from app.checkpoints.models import Submission, SubmissionStatus, Upload
from app.checkpoints.services import (
    STATUS_WORDS,
    IntakeError,
    claim,
    limits_of,
    own_receiving_submission,
    start_upload,
    storage_of,
)
from app.checkpoints.storage import ChecksumMismatch, IncompleteChunk, Part, UploadBusy
from app.db import compare_and_set, database_id, get_session, utcnow
from app.errors import Kind
from app.teams.services import team_ids_of

_GONE_MEANWHILE = "There is no such upload in your team any more (it was terminated or expired meanwhile)."
_LOST = (
    "The bytes of this upload are no longer on the server (it was restored from a backup taken while the "
    "file arrived); terminate this upload (DELETE) and upload the file again."
)


def tus_view(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Answer protocol and intake errors as problem+json, and mark every response as tus 1.0.0."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs) -> Response:
        try:
            response = handler(*args, **kwargs)
        except (tus.TusError, IntakeError) as error:
            get_session().rollback()
            response = _problem(error.status if isinstance(error, tus.TusError) else status_of(error), str(error))
        except UploadBusy as error:
            response = problem(423, f"{error}; wait for it to finish, then ask for the offset (HEAD)")
        response.headers["Tus-Resumable"] = tus.VERSION
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


def _problem(status: int, detail: str) -> Response:
    """problem+json, also for tus's own 460 (Checksum Mismatch), which HTTPStatus does not know."""
    if status != tus.CHECKSUM_MISMATCH:
        return problem(status, detail)
    body = {
        "type": "about:blank",
        "title": "Checksum Mismatch",
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def options() -> Response:
    """What this server supports (tus discovery)."""
    response = Response(status=204)
    response.headers.update(
        {"Tus-Version": tus.VERSION, "Tus-Extension": tus.EXTENSIONS, "Tus-Checksum-Algorithm": tus.CHECKSUM_ALGORITHMS}
    )
    return response


def create(user, location: Callable[[str], str]) -> Response:
    """POST: start the upload of one file of the caller's submission; answers 201 with its Location."""
    _require_version()
    if "Upload-Defer-Length" in request.headers:
        raise tus.TusError(400, "Upload-Defer-Length is not supported: send Upload-Length")
    length = tus.parse_length(request.headers.get("Upload-Length"), "Upload-Length")
    metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    filename, submission_id = metadata.get("filename"), metadata.get("submission") or ""
    if filename is None:
        raise tus.TusError(400, "Upload-Metadata must name the file (filename)")
    name_problem = check_filename(filename)
    if name_problem is not None:
        raise tus.TusError(400, name_problem)
    if not submission_id.isascii() or not submission_id.isdigit():
        raise tus.TusError(400, "Upload-Metadata must give the submission's id (submission)")
    declared = tus.parse_sha256_hex(metadata.get("sha256"))
    session = get_session()
    ident = database_id(submission_id)
    if ident is None:  # a number no submission can have
        raise IntakeError(Kind.not_found, "There is no such submission in your team.")
    submission = own_receiving_submission(session, user, ident)
    upload = start_upload(session, _settings(), user, submission, filename, length, declared)
    response = Response(status=201)
    response.headers.update({"Location": location(upload.id), "Upload-Expires": tus.http_date(upload.expires_at)})
    return response


def head(user, upload_id: str) -> Response:
    """HEAD: how many bytes of the upload are confirmed (where to resume); 410 when its bytes were lost."""
    upload = _own_upload(user, upload_id)
    if not _part_holds(upload):
        raise tus.TusError(410, _LOST)
    response = Response(status=200)
    response.headers.update(
        {
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": tus.http_date(upload.expires_at),
        }
    )
    return response


def patch(user, upload_id: str) -> Response:
    """PATCH: append one chunk at Upload-Offset, checking its sha256 if Upload-Checksum is sent."""
    _require_version()
    if request.mimetype != tus.OFFSET_CONTENT_TYPE:
        raise tus.TusError(415, f"send the chunk with Content-Type: {tus.OFFSET_CONTENT_TYPE}")
    offset = tus.parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
    if request.content_length is None:
        raise tus.TusError(411, "send a Content-Length (chunked transfer encoding is not accepted)")
    count, checksum = request.content_length, tus.parse_checksum(request.headers.get("Upload-Checksum"))
    session = get_session()
    upload = _writable_upload(user, upload_id)
    if offset + count > upload.length:
        raise tus.TusError(
            413,
            f"the chunk would end at byte {offset + count:,}, past the "
            f"{upload.length:,} bytes announced in Upload-Length",
        )
    request.max_content_length = count  # the app-wide 16 MiB cap is for forms, not for chunks
    with _open_part(upload) as part:
        confirmed = session.scalar(select(Upload.offset).where(Upload.id == upload.id))  # read under the file's lock
        if confirmed is None:
            raise tus.TusError(404, _GONE_MEANWHILE)
        if offset != confirmed:
            raise tus.TusError(
                409,
                f"Upload-Offset is {offset:,} but the server has {confirmed:,} "
                "bytes: resume from there (ask with HEAD)",
            )
        try:
            written = part.append(offset, _body(), count, checksum)
        except ChecksumMismatch as error:
            raise tus.TusError(tus.CHECKSUM_MISMATCH, f"{error}; the chunk was discarded, send it again") from None
        except IncompleteChunk as error:
            raise tus.TusError(400, f"{error}; the chunk was discarded, send it again") from None
        expires = _new_expiry(upload)
        # The offset moves only from the value read above: an upload terminated or expired meanwhile is gone.
        if not compare_and_set(
            session, Upload, upload.id, {"offset": offset}, {"offset": written, "expires_at": expires}
        ):
            raise tus.TusError(404, _GONE_MEANWHILE)
        session.commit()
    response = Response(status=204)
    response.headers.update({"Upload-Offset": str(written), "Upload-Expires": tus.http_date(expires)})
    return response


def terminate(user, upload_id: str) -> Response:
    """DELETE: abandon an upload of a submission that is still receiving files.

    Under the submission's lock (a finalise cannot stage the file meanwhile), the row is deleted only if it
    is still there: of several DELETEs at once, one answers 204 and the others 404."""
    _require_version()
    session = get_session()
    upload = _writable_upload(user, upload_id)
    claim(session, session.get(Submission, upload.submission_id), SubmissionStatus.receiving)
    if session.execute(delete(Upload).where(Upload.id == upload.id)).rowcount != 1:
        raise tus.TusError(404, "There is no such upload in your team (it was terminated meanwhile).")
    storage_of(_settings()).remove_part(upload.id)
    session.commit()
    return Response(status=204)


def _own_upload(user, upload_id: str) -> Upload:
    """The caller's team's upload, or a 404 (another team's upload does not exist for the caller)."""
    session = get_session()
    upload = session.get(Upload, upload_id) if len(upload_id) == 32 and upload_id.isalnum() else None
    if upload is None or upload.team_id not in team_ids_of(session, user):
        raise tus.TusError(404, "There is no such upload in your team (it may have expired).")
    if upload.expires_at < utcnow():
        raise tus.TusError(410, "This upload expired; start the file again.")
    return upload


def _part_holds(upload: Upload) -> bool:
    """Whether the part file is there with at least the confirmed bytes (not so after a restore from a
    backup, which leaves the transient uploads out)."""
    try:
        return storage_of(_settings()).part_path(upload.id).stat().st_size >= upload.offset
    except FileNotFoundError:
        return False


@contextmanager
def _open_part(upload: Upload) -> Iterator[Part]:
    """The upload's part file, locked for this request's chunk; 410 (tus: gone) when its bytes were lost."""
    with ExitStack() as stack:
        try:
            part = stack.enter_context(storage_of(_settings()).open_part(upload.id)) if _part_holds(upload) else None
        except FileNotFoundError:  # removed between the check and the open
            part = None
        if part is None:
            raise tus.TusError(410, _LOST)
        yield part


def _writable_upload(user, upload_id: str) -> Upload:
    """The caller's upload, if its submission still receives files (409 otherwise)."""
    upload = _own_upload(user, upload_id)
    submission = get_session().get(Submission, upload.submission_id)
    if submission.status != SubmissionStatus.receiving:
        raise tus.TusError(
            409, f"The submission is already {STATUS_WORDS[submission.status]}; its files can no longer change."
        )
    return upload


def _new_expiry(upload: Upload):
    """Every confirmed chunk gives the upload another `upload_expiry_hours`."""
    session = get_session()
    challenge = session.get(Challenge, session.get(Submission, upload.submission_id).challenge_id)
    return utcnow() + timedelta(hours=limits_of(challenge).upload_expiry_hours)


def _body():
    """The request body as the server hands it over, to read exactly Content-Length bytes from.

    `request.stream` wraps it in a Werkzeug LimitedStream that copies every block twice more (through a
    bytearray, then into bytes); reading no more than Content-Length is what PEP 3333 asks of an app, so
    the raw input is safe here. A short or failed read is the client going away (see `storage._read`).
    """
    return request.environ["wsgi.input"]


def _require_version() -> None:
    if request.headers.get("Tus-Resumable") != tus.VERSION:
        raise tus.TusError(412, f"send Tus-Resumable: {tus.VERSION} (the only version this server speaks)")


def _settings():
    from flask import current_app

    return current_app.config["LAGC"]
