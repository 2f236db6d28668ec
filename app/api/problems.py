"""Errors as RFC 9457 `application/problem+json`."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, json, request
from pydantic import ValidationError

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, detail: str, *, errors: dict[str, list[str]] | None = None, **extra: Any) -> Response:
    """A problem+json response; `errors` maps field paths to messages for validation failures."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                            "detail": detail, "instance": request.path}
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
