"""Checkpoint intake over the API: start a submission (upload or Hub reference), send its files with tus
under /api/v1/uploads, finalise it, and follow it until it is accepted or refused."""

from __future__ import annotations

from typing import Any, Literal, Optional

from flask import url_for
from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import Role
from app.api import ApiProblem, IsoDateTime, parse_body, respond, route
from app.challenges.services import get_challenge
from app.checkpoints import uploads
from app.checkpoints.intake import finalise
from app.checkpoints.models import SubmissionSource, SubmissionStatus
from app.checkpoints.services import (
    create_submission,
    own_receiving_submission,
    start_hub_submission,
    submission_json,
    submissions_for,
    uploads_of,
    visible_submission,
)
from app.db import get_session
from app.security import current_identity, public, roles


class FileOut(BaseModel):
    """A stored file of a checkpoint."""

    name: str
    bytes: Optional[int]
    sha256: Optional[str] = Field(description="null until a file named on the Hub is downloaded and hashed")


class UploadOut(BaseModel):
    """A file still arriving (tus): its length and how much of it is here."""

    model_config = ConfigDict(extra="forbid")
    id: str
    filename: str
    length: int
    offset: int


class LicenceOut(BaseModel):
    """The licence verdict recorded when the submission was accepted (an organiser may resolve a review)."""

    model_config = ConfigDict(extra="forbid")
    verdict: Optional[Literal["pass", "review", "fail"]]
    id: Optional[str] = Field(description="the SPDX id or name of the licence found")
    reasons: list[str]


class SubmissionOut(BaseModel):
    """A submission: where it stands, what was found in it, its files and hashes."""

    model_config = ConfigDict(extra="forbid")  # a key submission_json adds must be described here too
    id: int
    label: str
    source: SubmissionSource
    status: SubmissionStatus
    created_at: IsoDateTime
    accepted_at: Optional[IsoDateTime]
    parameters: Optional[int]
    dtypes: dict[str, Any] = Field(description="dtype -> parameters stored in it")
    total_bytes: Optional[int]
    files: list[FileOut]
    findings: dict[str, Any] = Field(description="errors and warnings of the checks, in words")
    hub_repo: Optional[str]
    hub_revision: Optional[str]
    hub_commit: Optional[str]
    licence: LicenceOut
    uploads: list[UploadOut] = Field(default=[], description="the files still arriving; only on one submission")


class SubmissionList(BaseModel):
    """Submissions, oldest first."""

    submissions: list[SubmissionOut]


class Refused(SubmissionOut):
    """A refused checkpoint: the submission and a problem document (RFC 9457) saying why."""

    type: str
    title: str
    status: int  # type: ignore[assignment]  # the problem's HTTP status; the submission's is "rejected"
    detail: str


def _out(submission, uploads=None) -> SubmissionOut:
    return SubmissionOut.model_validate(submission_json(submission, uploads))


class SubmissionCreate(BaseModel):
    """A new submission: a label, and for a Hub reference the repository, revision and optional token."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=120)
    hub_repo: Optional[str] = Field(default=None, max_length=200, description="organisation/name on the Hub")
    hub_revision: Optional[str] = Field(default=None, max_length=200, description="branch, tag or commit")
    hub_token: Optional[str] = Field(default=None, max_length=400, description="for private or gated repos")


def _settings():
    from flask import current_app

    return current_app.config["LAGC"]


def _challenge(slug: str):
    found = get_challenge(get_session(), slug)
    if found is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return found


@route(
    "/challenges/<slug>/submissions",
    methods=("POST",),
    request_model=SubmissionCreate,
    summary="Start a submission: then upload its files with tus (or give hub_repo and hub_revision)",
    tag="checkpoints",
    response_model=SubmissionOut,
)
@roles(Role.entrant)
def create_submission_api(slug: str):
    body = parse_body(SubmissionCreate)
    session, user = get_session(), current_identity()
    if body.hub_repo or body.hub_revision:  # an IntakeError or HubError is answered by the shell (problem+json)
        submission = start_hub_submission(
            session,
            _settings(),
            user,
            _challenge(slug),
            body.label,
            body.hub_repo or "",
            body.hub_revision or "",
            body.hub_token,
        )
    else:
        submission = create_submission(session, user, _challenge(slug), body.label)
    session.commit()
    response = respond(_out(submission, []), 201)
    response.headers["Location"] = url_for("api.submission_api", submission_id=submission.id)
    return response


@route(
    "/challenges/<slug>/submissions",
    summary="Your team's submissions (organisers: everyone's)",
    tag="checkpoints",
    response_model=SubmissionList,
)
@roles(Role.entrant, Role.organiser)
def list_submissions_api(slug: str):
    session = get_session()
    found = submissions_for(session, current_identity(), _challenge(slug))
    return respond(SubmissionList(submissions=[_out(s) for s in found]))


@route(
    "/submissions/<int:submission_id>",
    summary="A submission: status, findings, files and hashes",
    tag="checkpoints",
    response_model=SubmissionOut,
)
@roles(Role.entrant, Role.organiser)
def submission_api(submission_id: int):
    session = get_session()
    submission = visible_submission(session, current_identity(), submission_id)
    if submission is None:
        raise ApiProblem(404, "There is no such submission in your team.")
    return respond(_out(submission, uploads_of(session, submission.id)))


@route(
    "/submissions/<int:submission_id>/finalise",
    methods=("POST",),
    tag="checkpoints",
    summary="Every file is uploaded: check names and headers now (422 with findings if refused); "
    "hashing and acceptance follow in the background",
    response_model=SubmissionOut,
)
@roles(Role.entrant)
def finalise_api(submission_id: int):
    session, user = get_session(), current_identity()
    submission = own_receiving_submission(session, user, submission_id)  # an IntakeError: the shell answers it
    finalise(session, _settings(), submission, user.id)
    session.commit()
    body = submission_json(submission)
    if submission.status.value == "rejected":
        return respond(
            Refused.model_validate(
                {
                    **body,
                    "type": "about:blank",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "The checkpoint was refused: " + "; ".join(submission.findings["errors"][:5]),
                }
            ),
            422,
        )
    return respond(SubmissionOut.model_validate(body), 202)


# tus 1.0 for scripts; the browser uses the same handlers under /uploads (see routes.py).
def _location(upload_id: str) -> str:
    return url_for("api.tus_upload", upload_id=upload_id, _external=True)


@route("/uploads", methods=("OPTIONS",), summary="tus 1.0 discovery (Tus-Version, Tus-Extension)", tag="uploads")
@public
@uploads.tus_view
def tus_options():
    return uploads.options()


@route(
    "/uploads",
    methods=("POST",),
    tag="uploads",
    summary="tus creation: Upload-Length and Upload-Metadata (filename, submission, optional sha256 hex)",
)
@roles(Role.entrant)
@uploads.tus_view
def tus_create():
    return uploads.create(current_identity(), _location)


@route(
    "/uploads/<upload_id>",
    methods=("HEAD", "PATCH", "DELETE"),
    tag="uploads",
    summary="tus: HEAD gives Upload-Offset; PATCH appends a chunk (Upload-Checksum: sha256 <base64>); "
    "DELETE terminates",
)
@roles(Role.entrant)
@uploads.tus_view
def tus_upload(upload_id: str):
    from flask import request

    handler = {"HEAD": uploads.head, "PATCH": uploads.patch, "DELETE": uploads.terminate}[request.method]
    return handler(current_identity(), upload_id)
