"""The leaderboard API: the public rows as JSON or CSV (the page's filters), and the organisers' freeze.

The rows are the public snapshot the scheduler computed (counted as of the freeze); before the first one the
export answers 503 with ``Retry-After`` (the board is being prepared), never computing it in the request."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from flask import current_app, g, jsonify, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.accounts.models import Role
from app.api import ApiProblem, parse_body, query_param, route
from app.api.problems import problem, status_of
from app.challenges.services import get_challenge
from app.csvfile import csv_text
from app.db import get_session, utcnow
from app.security import current_identity, public, roles
from leaderboard.paired import CompareError
from leaderboard.projection import with_tie_reasons
from leaderboard.query import FIXED_SORTS, LICENCES, PER_PAGE, SIZES, parse_query, view_rows
from evaluation.counted import active_freeze
from leaderboard.serving import PREPARING, RETRY_AFTER, board_head, cached_body, load_board, not_modified
from leaderboard.services import compare_for, freeze, unfreeze
from scoring.paired_json import dumps

ROW_FIELDS = (
    "rank",
    "team",
    "baseline",
    "submission",
    "parameters",
    "size",
    "licence",
    "cluster",
    "evaluated_at",
    "score",
    "se",
    "complete",
    "missing",
    "final",
    "final_se",
    "judges",
    "judges_se",
    "tied",
    "reasons",
)
EXPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "challenge": {"type": "string"},
        "etag": {"type": "string"},
        "key": {"type": "string"},
        "tasks": {"type": "array"},
        "frozen_at": {"type": ["string", "null"]},
        "total": {"type": "integer"},
        "rows": {"type": "array", "items": {"type": "object"}},
    },
}


EXPORT_QUERY = [
    query_param("challenge", "The challenge's slug; default: the newest challenge"),
    query_param("format", "json (default) or csv", {"type": "string", "enum": ["json", "csv"]}),
    query_param("cluster", "Only entries evaluated on this cluster"),
    query_param("size", "Only this size class", {"type": "string", "enum": list(SIZES)}),
    query_param("licence", "Only entries with this licence verdict", {"type": "string", "enum": list(LICENCES)}),
    query_param("sort", f"{', '.join(FIXED_SORTS)} (default: rank), or task.<name> for a task's column"),
    query_param("order", "asc (default) or desc", {"type": "string", "enum": ["asc", "desc"]}),
    query_param(
        "page", "The page of rows (JSON only; pages when page or per_page is given)", {"type": "integer", "minimum": 1}
    ),
    query_param("per_page", "Rows per page (JSON only)", {"type": "integer", "enum": list(PER_PAGE)}),
]


@route(
    "/leaderboard",
    summary="The public leaderboard rows (format=json|csv; filters as on the page: cluster, "
    "size, licence, sort, order, and page/per_page for JSON)",
    tag="leaderboard",
    response_schema=EXPORT_SCHEMA,
    query=EXPORT_QUERY,
)
@public
def leaderboard_export():
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiProblem(422, "Unknown format.", {"format": ["use json or csv"]})
    head = board_head(request.args.get("challenge") or None)
    if head is None:
        raise ApiProblem(404, "There is no such challenge.")
    if head.etag is None:
        return _preparing()
    early = not_modified(head)
    if early is not None:
        return early
    return cached_body(head, fmt, lambda: _export(head, fmt))


def _preparing():
    """503 with Retry-After: the scheduler has not computed this board yet."""
    response = problem(503, PREPARING)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _export(head, fmt: str) -> tuple[str, str]:
    """The body and media type of an export for this request's filters."""
    board = load_board(head)
    if board is None:
        raise ApiProblem(503, PREPARING)
    names = [task["name"] for task in board.meta["tasks"]]
    query, errors = parse_query(request.args, names, board.meta["clusters"])
    if errors:
        raise ApiProblem(422, "Some query parameters are invalid.", errors)
    paged = fmt == "json" and ("page" in request.args or "per_page" in request.args)
    rows, total, pages, page = view_rows(board.rows, names, query, paged=paged)
    if fmt == "csv":
        return _csv(rows, names), "text/csv"
    body = {
        "challenge": head.slug,
        "etag": head.etag,
        "key": board.meta["key"],
        "judging_published": board.meta["judging_published"],
        "frozen_at": board.meta.get("frozen_at"),
        "hidden_tasks_withheld": board.meta["hidden_tasks_withheld"],
        "computed_at": board.meta["computed_at"],
        "tasks": board.meta["tasks"],
        "total": total,
        "page": page,
        "pages": pages,
        "rows": [_json_row(row, names) for row in with_tie_reasons(board.rows, rows)],
    }
    return json.dumps(body), "application/json"


def _json_row(row: dict, names: list[str]) -> dict:
    """A public row: its facts and, per task, the raw and normalised scores with their standard errors."""
    out = {name: row[name] for name in ROW_FIELDS}
    out["team_id"] = row["team_id"]
    for name in ("submission_id", "evaluation_id", "chosen", "newer"):  # which submission and evaluation count
        out[name] = row.get(name)
    out["paired"] = row.get("paired")  # vs the next ranked entry and each baseline (`leaderboard.paired`)
    out["tasks"] = {
        name: {"raw": c[0], "stderr": c[1], "normalised": c[2], "normalised_stderr": c[3]}
        for name, c in zip(names, row["tasks"])
    }
    return out


def _csv(rows: list[dict], names: list[str]) -> str:
    """One line per row; per task its normalised score and raw value (through the platform's safe writer:
    names like formulas become text, scores stay numbers)."""
    flat = [f for f in ROW_FIELDS if f not in ("missing", "reasons")]
    header = flat + [f"{n}{suffix}" for n in names for suffix in ("", "_raw", "_stderr")]
    return csv_text(
        header, ([row[f] for f in flat] + [v for c in row["tasks"] for v in (c[2], c[0], c[1])] for row in rows)
    )


class FreezeBody(BaseModel):
    """When to freeze the public board (default: now) and why."""

    model_config = ConfigDict(extra="forbid")
    frozen_at: Optional[AwareDatetime] = Field(default=None, description="ISO 8601 with a UTC offset")
    reason: str = Field(default="", max_length=500)


def _freeze_json(row) -> dict:
    if row is None:
        return {"frozen": False}
    return {"frozen": True, "frozen_at": row.frozen_at.isoformat(), "reason": row.reason, "by": row.frozen_by_id}


@route(
    "/leaderboard/<slug>/freeze",
    methods=("GET",),
    summary="The freeze in force on a challenge's board",
    tag="leaderboard",
)
@roles(Role.organiser)
def leaderboard_freeze_get(slug: str):
    challenge = get_challenge(get_session(), slug)
    if challenge is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    return jsonify(_freeze_json(active_freeze(get_session(), challenge.id)))


@route(
    "/leaderboard/<slug>/freeze",
    methods=("POST",),
    summary="Freeze the public board at a time (or now)",
    tag="leaderboard",
    request_model=FreezeBody,
)
@roles(Role.organiser)
def leaderboard_freeze(slug: str):
    body = parse_body(FreezeBody)
    session = get_session()
    challenge = get_challenge(session, slug)
    if challenge is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    at: datetime = body.frozen_at or utcnow()
    row = freeze(session, challenge, at, g.api_user.id, body.reason)
    session.commit()
    return jsonify(_freeze_json(row)), 201


@route("/leaderboard/<slug>/freeze", methods=("DELETE",), summary="Lift the freeze", tag="leaderboard")
@roles(Role.organiser)
def leaderboard_unfreeze(slug: str):
    session = get_session()
    challenge = get_challenge(session, slug)
    if challenge is None:
        raise ApiProblem(404, f"No challenge {slug!r}.")
    unfreeze(session, challenge, g.api_user.id)
    session.commit()
    return jsonify({"frozen": False})


COMPARE_QUERY = [
    query_param("challenge", "The challenge's slug", required=True),
    query_param("a", "Entry A: a team id, or a team's exact name", required=True),
    query_param("b", "Entry B: a team id, or a team's exact name", required=True),
    query_param(
        "seed", "Mixed with both runs' ids into the random seed (default 0)", {"type": "integer", "minimum": 0}
    ),
]
COMPARE_SCHEMA = {
    "type": "object",
    "properties": {
        "tasks": {"type": "object"},
        "overall": {"type": "object"},
        "runs": {"type": "object"},
        "seed": {"type": "integer"},
        "resamples": {"type": "integer"},
        "notes": {"type": "array"},
        "entries": {"type": "object"},
        "distinguishable": {"type": "boolean"},
        "challenge": {"type": "string"},
        "as_of": {"type": ["string", "null"]},
    },
}


@route(
    "/leaderboard/compare",
    summary="Two entries compared item by item (the JSON of `flask scores paired`): "
    "per task and on the benchmark score, with 95% intervals and p-values. The public compares the entries "
    "as the public board counts them (as of the freeze; hidden tasks only in the overall); judges and "
    "organisers compare everything so far",
    tag="leaderboard",
    response_schema=COMPARE_SCHEMA,
    query=COMPARE_QUERY,
)
@public
def leaderboard_compare():
    args = request.args
    seed_text = args.get("seed", "0")
    if not seed_text.isdigit() or len(seed_text) > 18:
        raise ApiProblem(422, "The seed must be a whole number from 0.", {"seed": ["a whole number from 0"]})
    session = get_session()
    challenge = get_challenge(session, args.get("challenge") or "") if args.get("challenge") else None
    if challenge is None:
        raise ApiProblem(
            404 if args.get("challenge") else 422,
            "Name a challenge that exists (?challenge=SLUG).",
            {"challenge": ["no such challenge"]},
        )
    user = current_identity()
    everything = user is not None and Role(user.role) in (Role.judge, Role.organiser)
    try:
        body = compare_for(
            session,
            challenge,
            args.get("a"),
            args.get("b"),
            current_app.config["LAGC"].storage_dir,
            everything=everything,
            seed=int(seed_text),
            now=utcnow(),
        )
    except CompareError as exc:
        raise ApiProblem(status_of(exc), exc.detail) from None
    return current_app.response_class(
        dumps(body), mimetype="application/json", headers={"Cache-Control": "private, no-cache"}
    )
