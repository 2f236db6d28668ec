"""Errors as RFC 9457 `application/problem+json`, and the one mapping from a refusal's kind to its HTTP status
(`status_of`), used by the pages and the API alike. A leaf: it imports nothing of the platform but the kinds."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, json, request
from pydantic import ValidationError

from app.errors import DomainError, Kind

PROBLEM_TYPE = "application/problem+json"
STATUS = {
    Kind.invalid: 422,
    Kind.conflict: 409,
    Kind.not_found: 404,
    Kind.forbidden: 403,
    Kind.too_large: 413,
    Kind.too_many: 429,
    Kind.unavailable: 502,
}


def status_of(error: DomainError) -> int:
    """The HTTP status that answers a refusal of this kind."""
    return STATUS[error.kind]


def problem(status: int, detail: str, *, errors: dict[str, list[str]] | None = None, **extra: Any) -> Response:
    """A problem+json response; `errors` maps field paths to messages for validation failures."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


def pydantic_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Field path -> messages, in words rather than pydantic's codes."""
    errors: dict[str, list[str]] = {}
    for item in exc.errors():
        path = ".".join(str(p) for p in item["loc"]) or "body"
        errors.setdefault(path, []).append(item["msg"])
    return errors


def domain_problem(error: DomainError) -> Response:
    """A refusal as a problem document: its status, its message and its messages per input."""
    return problem(status_of(error), error.message, errors=error.field_errors())
