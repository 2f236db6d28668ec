"""Licence API: check a model card and LICENSE before submitting (public), and organisers' resolutions."""

from __future__ import annotations

from typing import Literal, Optional

from flask import request
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.exceptions import RequestEntityTooLarge

from app.security.ratelimit import PUBLIC_API_PER_ADDRESS, limited
from app.accounts.models import Role
from app.api import ApiProblem, IsoDateTime, parse_body, query_param, respond, route
from app.checkpoints.models import Submission
from app.db import get_session
from app.licences.modelcard import MAX_README_BYTES
from app.licences.policy import LicencePolicy
from app.challenges.services import get_challenge
from app.licences.services import LicenceError, MIN_JUSTIFICATION, effective_verdict, policy_of, resolve_review
from app.licences.texts import MAX_LICENSE_BYTES
from app.licences.verify import MAX_CONFIG_BYTES, check_licence
from app.security import current_identity, public, roles

MAX_CHECK_BYTES = MAX_README_BYTES + MAX_LICENSE_BYTES + MAX_CONFIG_BYTES + 64_000  # the three files and framing
MAX_CHECK_FILES = 8
CHECK_BODY = {
    "type": "object",
    "description": "multipart/form-data: README.md, LICENSE and config.json as files",
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
}


class VerdictOut(BaseModel):
    """A licence verdict: pass, review (an organiser decides) or fail, the licence found, and why."""

    model_config = ConfigDict(extra="forbid")
    verdict: Literal["pass", "review", "fail"]
    licence: Optional[str]
    reasons: list[str]


class ResolutionOut(BaseModel):
    """An organiser's resolution of a licence review, and the verdict that now counts."""

    model_config = ConfigDict(extra="forbid")
    submission_id: int
    outcome: Literal["pass", "fail"]
    effective_verdict: Optional[Literal["pass", "review", "fail"]]
    at: IsoDateTime


@route(
    "/licences/check",
    methods=("POST",),
    summary="Check the licence of a model card and LICENSE file (multipart upload, the same verdict a submission gets)",
    tag="licences",
    request_schema=CHECK_BODY,
    response_model=VerdictOut,
    request_content_type="multipart/form-data",
    query=[query_param("challenge", "The challenge whose licence policy applies (its slug); default: 2024's")],
)
@public
@limited(PUBLIC_API_PER_ADDRESS)
def check_licence_files():
    """Answer `{"verdict", "licence", "reasons"}` for uploaded README.md / LICENSE / config.json files."""
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(415, "Send the files as multipart/form-data (README.md, LICENSE, config.json).")
    if request.content_length is not None and request.content_length > MAX_CHECK_BYTES:
        raise ApiProblem(
            413, f"The upload is larger than {MAX_CHECK_BYTES:,} bytes: send only README.md, LICENSE and config.json."
        )
    request.max_content_length = MAX_CHECK_BYTES  # also bounds a chunked body without a length
    try:
        uploads = [f for f in request.files.values() if f is not None]
    except RequestEntityTooLarge:
        raise ApiProblem(413, f"The upload is larger than {MAX_CHECK_BYTES:,} bytes.") from None
    if not uploads:
        raise ApiProblem(400, "No files: attach README.md and/or LICENSE as multipart file fields.")
    if len(uploads) > MAX_CHECK_FILES:
        raise ApiProblem(400, f"Send at most {MAX_CHECK_FILES} files.")
    files = {(f.filename or f.name or "file"): f.read(MAX_README_BYTES + 1) for f in uploads}
    return respond(VerdictOut(**check_licence(files, _policy(request.args.get("challenge"))).to_dict()))


def _policy(slug: str | None) -> LicencePolicy:
    """`?challenge=SLUG` checks against that challenge's policy; the 2024 challenge's policy otherwise."""
    if not slug:
        return LicencePolicy.default()
    challenge = get_challenge(get_session(), slug)
    if challenge is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return policy_of(challenge)


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(pattern="^(pass|fail)$")
    justification: str = Field(min_length=MIN_JUSTIFICATION, max_length=4000)


@route(
    "/submissions/<int:submission_id>/licence-resolution",
    methods=("POST",),
    tag="licences",
    summary="Resolve a submission's licence review (organisers), with a written justification",
    request_model=ResolutionIn,
    response_model=ResolutionOut,
)
@roles(Role.organiser)
def licence_resolution(submission_id: int):
    """Record an organiser's pass or fail on a submission in licence review."""
    session = get_session()
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise ApiProblem(404, f"No submission {submission_id}.")
    body = parse_body(ResolutionIn)
    try:
        resolution = resolve_review(session, submission, body.outcome, body.justification, current_identity().id)
    except LicenceError as exc:
        raise ApiProblem(422, str(exc), errors={exc.field or "body": [str(exc)]}) from None
    session.commit()
    return respond(
        ResolutionOut(
            submission_id=submission.id,
            outcome=resolution.outcome,
            effective_verdict=effective_verdict(session, submission),
            at=resolution.at,
        ),
        201,
    )
