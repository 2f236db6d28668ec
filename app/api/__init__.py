"""The JSON API under /api/v1: token authentication, problem+json errors, and an OpenAPI document built
from the same registry that declares the routes, so the two cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Callable, Type

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, PlainSerializer, ValidationError, WithJsonSchema
from werkzeug.exceptions import HTTPException

from app.api.problems import problem, pydantic_errors
from app.db import get_session
from app.jsonbody import JsonBodyError, check_size, load_json
from app.security import Access, access_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    request_model: Type[BaseModel] | None = None
    request_schema: dict | None = None
    response_schema: dict = field(default_factory=lambda: {"type": "object"})
    tag: str = "platform"
    request_content_type: str = "application/json"
    query: tuple[dict, ...] = ()
    response_model: Type[BaseModel] | None = None


OPERATIONS: list[Operation] = []
# A moment in a response model, written as `datetime.isoformat()` writes it ("+00:00", as the pages and the
# answers before the models did; pydantic alone would write "Z").
IsoDateTime = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
CONVERTER = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
PATH_SCHEMAS = {"int": {"type": "integer", "minimum": 0}}  # what Flask's converter accepts; else a string


def query_param(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    """A query-string parameter of an API route, for `route(..., query=[...])`."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def route(
    rule: str,
    *,
    methods: tuple[str, ...] = ("GET",),
    summary: str,
    tag: str = "platform",
    request_model: Type[BaseModel] | None = None,
    request_schema: dict | None = None,
    response_schema: dict | None = None,
    request_content_type: str = "application/json",
    query: list[dict] | tuple[dict, ...] = (),
    response_model: Type[BaseModel] | None = None,
) -> Callable:
    """Register an API route and describe it for the OpenAPI document in one place; `query` lists the
    query-string parameters it reads (see `query_param`). The response is described by a pydantic
    `response_model` (the view answers with `respond(model)`) or, where none exists yet, a hand-written
    `response_schema`."""

    def decorator(view: Callable) -> Callable:
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint, view, methods=list(methods))
        for method in methods:
            OPERATIONS.append(
                Operation(
                    rule,
                    method,
                    f"api.{endpoint}",
                    summary,
                    request_model,
                    request_schema,
                    response_schema or {"type": "object"},
                    tag,
                    request_content_type,
                    tuple(query),
                    response_model,
                )
            )
        return view

    return decorator


def respond(body: BaseModel, status: int = 200) -> Response:
    """A view's JSON answer from its response model: the document says what the answer holds, and it does.
    A response, so a view can add headers (`Location`) before returning it. A field the view leaves unset
    (one with a default, such as a list only one route fills) is left out of the answer."""
    response = jsonify(body.model_dump(mode="json", exclude_unset=True))
    response.status_code = status
    return response


def json_body(what: str = "the body") -> Any:
    """The request's JSON document, read within `app.jsonbody`'s size and depth limits before it is parsed:
    415 without a JSON content type, 413 too large, 400 too deep or not JSON (each names the limit)."""
    if not request.is_json:
        raise ApiProblem(415, f"Send {what} as JSON with Content-Type: application/json.")
    try:
        check_size(request.content_length or 0)  # a body announced as too large is never read
        return load_json(request.get_data(cache=True))
    except JsonBodyError as error:
        raise ApiProblem(error.status, str(error)) from None


def parse_body(model: Type[BaseModel]) -> BaseModel:
    """Validate the JSON body with a data model; a bad body becomes a 422 (or 415/413/400) problem."""
    data = json_body()
    if not isinstance(data, dict):
        raise ApiProblem(
            422,
            f"The body must be a JSON object ({{...}}), not {_json_kind(data)}.",
            errors={"body": ["must be a JSON object"]},
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiProblem(422, "Some fields are missing or invalid.", errors=pydantic_errors(exc)) from None


def _json_kind(value: Any) -> str:
    """What a decoded JSON value is, in the words of the JSON format."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {str: "a string", list: "an array"}.get(type(value), "a number")


class ApiProblem(Exception):
    """Raised inside API views to answer with a problem+json response."""

    def __init__(self, status: int, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors


@bp.app_errorhandler(ApiProblem)  # app-wide: authenticate_token raises it before routing (also on unknown paths)
def _api_problem(exc: ApiProblem):
    return problem(exc.status, exc.detail, errors=exc.errors)


@bp.errorhandler(HTTPException)
def _api_http_error(exc: HTTPException):
    response = problem(exc.code or 500, exc.description or "")
    if exc.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lagc"'
    return response


# Parts of the API whose callers are not people: {path prefix under /api/v1: (what the token is, its lookup)}.
# A feature registers its realm when its API module is imported (the site agents' API: evaluation.sites.api);
# there a Bearer token is looked up by that function only, so a person's token opens none of its routes and
# its tokens open no other route.
TOKEN_REALMS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {}


def token_realm(prefix: str, what: str, lookup: Callable[[Any, str], Any]) -> None:
    """Routes under ``/api/v1<prefix>`` authenticate with ``lookup(session, token)`` (None: unknown token);
    the caller is ``g.api_agent``."""
    TOKEN_REALMS[prefix] = (what, lookup)


def authenticate_token() -> None:
    """before_request (app-wide, ahead of the access check): on API routes a Bearer token identifies the
    caller; the API never relies on the browser's session cookie."""
    from app.accounts.services import user_for_token

    if not request.path.startswith(bp.url_prefix + "/"):
        return
    g.api_user = None
    g.api_agent = None
    g.api_request = True
    header = request.headers.get("Authorization", "")
    for prefix, (what, lookup) in TOKEN_REALMS.items():
        if request.path.startswith(bp.url_prefix + prefix):
            token = header[7:].strip() if header.startswith("Bearer ") else ""
            g.api_agent = lookup(get_session(), token) if token else None
            if g.api_agent is None:
                raise ApiProblem(
                    401,
                    f"These routes take a {what} token (Authorization: Bearer ...); this one "
                    "is missing, unknown or revoked.",
                )
            return
    if header.startswith("Bearer "):
        user = user_for_token(get_session(), header[7:].strip())
        if user is None:
            raise ApiProblem(401, "The API token is unknown, revoked, or its account is disabled.")
        g.api_user = user
        get_session().commit()  # records last_used_at


def openapi_document(access_lookup: Callable[[str], Access | None] = access_of) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered API operation."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for op in OPERATIONS:
        path = "/api/v1" + PARAM.sub(r"{\1}", op.rule)
        access = access_lookup(op.endpoint)
        item: dict[str, Any] = {
            "operationId": op.endpoint.replace(".", "_") + "_" + op.method.lower(),
            "summary": op.summary,
            "tags": [op.tag],
            "x-access": access.describe() if access else "undeclared",
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": _response_schema(op, schemas)}},
                },
                "default": {
                    "description": "A problem",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            },
        }
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": dict(PATH_SCHEMAS.get(converter, {"type": "string"})),
            }
            for converter, name in CONVERTER.findall(op.rule)
        ] + [dict(q) for q in op.query]
        if params:
            item["parameters"] = params
        schema = op.request_schema or (op.request_model.model_json_schema() if op.request_model else None)
        if schema is not None:
            item["requestBody"] = {"required": True, "content": {op.request_content_type: {"schema": schema}}}
        if access and access.audience != "public":
            item["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Large AI Grand Challenge platform API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                **schemas,
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    }


def _response_schema(op: Operation, schemas: dict[str, Any]) -> dict:
    """The operation's response schema: its model's, as a reference into `components/schemas`, or the
    hand-written one."""
    if op.response_model is None:
        return op.response_schema
    schema = op.response_model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    schemas.update(schema.pop("$defs", {}))
    schemas[op.response_model.__name__] = schema
    return {"$ref": f"#/components/schemas/{op.response_model.__name__}"}
