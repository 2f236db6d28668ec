"""The site API (``/api/v1/sites/...``): what a site's agent calls, authenticated by the site's token only.

    POST /sites/heartbeat                              alive; renews the leases it lists; its leases' states
    GET  /sites/leases                                 the leases it holds, each with what to run
    POST /sites/leases/<id>/<attempt>/events           staged | submitting | submitted | running | failed | ...
    GET  /sites/leases/<id>/<attempt>/files/<sha256>   a checkpoint or suite file (HTTP Range resumes)
    PUT  /sites/leases/<id>/<attempt>/outputs/<path>   an output file, with X-Content-SHA256 (idempotent)
    POST /sites/leases/<id>/<attempt>/result           the job succeeded: ingest its uploaded outputs (once)

A site sees only the leases it holds (any other evaluation is a 404) and only their files. No route here
writes on GET.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Optional

from flask import current_app, g, request, send_file
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api import ApiProblem, parse_body, respond, route, token_realm
from app.checkpoints.services import storage_of
from app.db import DatabaseId, get_session, utcnow
from app.security import agent
from evaluation.agent.protocol import EVENTS, SHA256_HEADER
from evaluation.models import EvaluationState as S
from evaluation.sites import bundle, events, leases, outputs
from evaluation.sites.services import HELD, SiteError, heartbeat, held_by, site_for_token

token_realm("/sites/", "site", site_for_token)
TAG = "sites"
PROVENANCE_BYTES = 65_536
LEASE = "/sites/leases/<int:evaluation_id>/<int:attempt>"


class LeaseSummary(BaseModel):
    """A held lease as the agent sees it in an answer: enough to renew, cancel or drop it."""

    evaluation_id: int
    attempt: int
    state: str  # an `evaluation.models.EvaluationState` value
    cancel: bool  # an organiser asked to cancel it
    bound: bool  # the platform knows its job folder


class Lease(LeaseSummary):
    """A lease with what to run: the evaluation's request without platform paths (files go by sha256)."""

    cluster: str
    job_name: str
    job_id: Optional[str] = None
    lease_expires_at: Optional[str] = None  # ISO 8601, with its offset
    request: dict[str, Any]


class HeartbeatAnswer(BaseModel):
    """The answer to a heartbeat: the site, how long a lease lasts unrenewed, and every lease it holds."""

    site: str
    cluster: str
    lease_seconds: float
    leases: list[LeaseSummary]


class Leases(BaseModel):
    leases: list[Lease]


class StoredOutput(BaseModel):
    """An output file as the platform stored it."""

    path: str
    sha256: str
    bytes: int


class Agent(BaseModel):
    """What the agent says about itself."""

    model_config = ConfigDict(extra="ignore")
    version: str = Field(default="", max_length=40)
    host: str = Field(default="", max_length=200)
    hub: bool = False
    lock_sha256: Optional[str] = Field(default=None, max_length=64)
    transport: str = Field(default="local", max_length=20)
    python: str = Field(default="", max_length=40)


class Held(BaseModel):
    evaluation_id: DatabaseId
    attempt: int = Field(ge=1, le=10_000)


class Heartbeat(BaseModel):
    """A heartbeat: the agent, and the leases it holds (each renewed)."""

    model_config = ConfigDict(extra="forbid")
    agent: Agent = Agent()
    holding: list[Held] = Field(default_factory=list, max_length=10_000)


class Event(BaseModel):
    """A state change of a lease's job, as the agent saw it."""

    model_config = ConfigDict(extra="forbid")
    event: Literal[EVENTS]  # type: ignore[valid-type]
    job_dir: Optional[str] = Field(default=None, max_length=1000)
    job_id: Optional[str] = Field(default=None, max_length=64)
    node: Optional[str] = Field(default=None, max_length=500)
    reason: Optional[str] = Field(default=None, max_length=4000)
    log_tail: list[str] = Field(default_factory=list, max_length=50)
    exit_code: Optional[int] = Field(default=None, ge=-1000, le=1000)
    started_at: Optional[str] = Field(default=None, max_length=40)
    ended_at: Optional[str] = Field(default=None, max_length=40)
    elapsed_seconds: Optional[float] = Field(default=None, ge=0, le=10**8)
    scheduler_state: Optional[str] = Field(default=None, max_length=40)
    retryable: bool = False
    seconds: Optional[float] = Field(default=None, ge=0, le=10**8)
    fetched_bytes: Optional[int] = Field(default=None, ge=0)


class Output(BaseModel):
    path: str = Field(max_length=500)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class RunEnd(BaseModel):
    model_config = ConfigDict(extra="ignore")
    exit_code: Optional[int] = Field(default=None, ge=-1000, le=1000)
    node: Optional[str] = Field(default=None, max_length=500)
    started_at: Optional[str] = Field(default=None, max_length=40)
    ended_at: Optional[str] = Field(default=None, max_length=40)
    elapsed_seconds: Optional[float] = Field(default=None, ge=0, le=10**8)
    scheduler_state: Optional[str] = Field(default=None, max_length=40)


class Result(BaseModel):
    """A succeeded job: how it ran, the outputs uploaded, and what the site records of it."""

    model_config = ConfigDict(extra="forbid")
    status: RunEnd
    outputs: list[Output] = Field(min_length=1, max_length=1000)
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("provenance")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > PROVENANCE_BYTES:
            raise ValueError(f"the provenance is kept with the evaluation: at most {PROVENANCE_BYTES:,} bytes of JSON")
        return value


def _site():
    return g.api_agent


def _settings():
    return current_app.config["LAGC"]


def _lease(evaluation_id: int, attempt: int):
    try:
        return leases.lease_for(get_session(), _site(), evaluation_id, attempt)
    except SiteError as exc:
        raise _problem(exc) from None


def _problem(exc: SiteError) -> ApiProblem:
    return ApiProblem(exc.status, str(exc), {exc.field: [str(exc)]} if exc.field else None)


@route(
    "/sites/heartbeat",
    methods=("POST",),
    summary="A site's agent is alive: renews the leases it holds and answers where each stands (cancel asked, state)",
    tag=TAG,
    request_model=Heartbeat,
    response_model=HeartbeatAnswer,
)
@agent
def site_heartbeat():
    body, session, site, settings = parse_body(Heartbeat), get_session(), _site(), _settings()
    held = heartbeat(
        session,
        site,
        body.agent.model_dump(),
        [(h.evaluation_id, h.attempt) for h in body.holding],
        utcnow(),
        settings.site_lease_seconds,
    )
    answer = HeartbeatAnswer(
        site=site.name, cluster=site.cluster, lease_seconds=settings.site_lease_seconds, leases=held
    )
    session.commit()
    return respond(answer)


@route(
    "/sites/leases",
    summary="The leases this site holds, each with the request to run (no platform paths: files are fetched by sha256)",
    tag=TAG,
    response_model=Leases,
)
@agent
def site_leases():
    return respond(Leases(leases=[leases.payload(ev) for ev in held_by(get_session(), _site())]))


@route(
    LEASE + "/events",
    methods=("POST",),
    summary="A state change of a lease's job (staged, submitting, submitted, running, failed, cancelled, released)",
    tag=TAG,
    request_model=Event,
    response_model=LeaseSummary,
)
@agent
def site_event(evaluation_id: int, attempt: int):
    body = parse_body(Event)
    session, ev = get_session(), _lease(evaluation_id, attempt)
    try:
        events.report(session, _settings(), _site(), ev, body.event, body.model_dump(), utcnow())
    except SiteError as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return respond(LeaseSummary(**leases.summary(ev)))


@route(
    LEASE + "/files/<sha256>",
    summary="A file of the lease's checkpoint or task suite, by sha256 (HTTP Range requests resume a download)",
    tag=TAG,
    response_schema={"type": "string", "contentMediaType": "application/octet-stream"},
)
@agent
def site_file(evaluation_id: int, attempt: int, sha256: str):
    ev, settings = _lease(evaluation_id, attempt), _settings()
    if S(ev.state) not in HELD:
        raise ApiProblem(409, f"evaluation {ev.id} is {S(ev.state).value}: its files are no longer served")
    path = _file_path(ev.request or {}, settings, ev.submission_id, sha256)
    if path is None or not path.is_file():
        raise ApiProblem(404, f"the lease has no file with sha256 {sha256}")
    response = send_file(path, mimetype="application/octet-stream", conditional=True, etag=sha256, max_age=0)
    response.headers[SHA256_HEADER] = sha256
    return response


def _file_path(request_: dict, settings, submission_id: int, sha256: str):
    for entry in (request_.get("model") or {}).get("files", ()):
        if entry["sha256"] == sha256:
            return storage_of(settings).submission_dir(submission_id) / entry["name"]
    suite = request_.get("suite")
    return bundle.file_path(settings.storage_dir, suite, sha256) if suite else None


@route(
    LEASE + "/outputs/<path:path>",
    methods=("PUT",),
    summary="Upload one output file of the lease's job "
    "(results_*.json, samples_*.jsonl) unchanged, its sha256 in X-Content-SHA256; the same file again is "
    "the same answer",
    tag=TAG,
    request_content_type="application/octet-stream",
    request_schema={"type": "string", "contentMediaType": "application/octet-stream"},
    response_model=StoredOutput,
)
@agent
def site_output(evaluation_id: int, attempt: int, path: str):
    session, ev, settings = get_session(), _lease(evaluation_id, attempt), _settings()
    if request.content_length is None:
        raise ApiProblem(411, "send a Content-Length (chunked transfer encoding is not accepted)")
    request.max_content_length = max(request.content_length, 1)  # the app-wide 16 MiB cap is for forms
    try:
        row, new = outputs.store_output(
            session,
            settings,
            _site(),
            ev,
            path,
            request.headers.get(SHA256_HEADER, ""),
            request.environ["wsgi.input"],
            request.content_length,
            utcnow(),
        )
    except SiteError as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return respond(StoredOutput(path=row.path, sha256=row.sha256, bytes=row.bytes), 201 if new else 200)


@route(
    LEASE + "/result",
    methods=("POST",),
    summary="The lease's job succeeded: ingest its uploaded outputs (once; the same result again is the same answer)",
    tag=TAG,
    request_model=Result,
    response_model=LeaseSummary,
)
@agent
def site_result(evaluation_id: int, attempt: int):
    body = parse_body(Result)
    session, ev = get_session(), _lease(evaluation_id, attempt)
    try:
        refused = outputs.settle_result(session, _settings(), _site(), ev, body.model_dump(), utcnow())
    except SiteError as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    if refused:
        raise ApiProblem(422, "the results were refused: " + "; ".join(refused), {"task_hashes": refused})
    if S(ev.state) == S.finished:
        outputs.discard_uploads(_settings(), ev)
    return respond(LeaseSummary(**leases.summary(ev)))
