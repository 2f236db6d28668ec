"""A view of the board as a query string: sorting, filters and the page, validated and normalised.

Pure: standard library only. The normalised query is both the permalink of a view and (with the snapshot's
ETag) the key of the rendered-page cache, so two spellings of the same view share one cache entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from leaderboard.projection import SIZE_CLASSES

LICENCES = ("pass", "review", "fail", "none")
SIZES = tuple(key for key, _, _ in SIZE_CLASSES) + ("unknown",)
PER_PAGE = (25, 50, 100)
FIXED_SORTS = ("rank", "team", "model", "parameters", "licence", "score", "final")


@dataclass(frozen=True)
class BoardQuery:
    """One view of the board; defaults are left out of the permalink."""

    sort: str = "rank"
    order: str = "asc"
    cluster: str = ""
    size: str = ""
    licence: str = ""
    page: int = 1
    per_page: int = 50

    def params(self, **changes: Any) -> dict[str, Any]:
        """The non-default fields (after ``changes``) as query parameters, in a fixed order."""
        view, default = replace(self, **changes), BoardQuery()
        return {
            name: getattr(view, name)
            for name in ("sort", "order", "cluster", "size", "licence", "page", "per_page")
            if getattr(view, name) != getattr(default, name)
        }

    def canonical(self) -> str:
        """The normalised query string (the cache key and the permalink's query)."""
        return urlencode(self.params())


def first_order(sort: str) -> str:
    """The order a first click on a column sorts in: the best first, so the highest score for a score
    (benchmark, final, a task's), A to Z and the smallest model for the rest, as the ranking reads."""
    return "desc" if sort in ("score", "final") or sort.startswith("task.") else "asc"


def next_order(query: BoardQuery, sort: str) -> str:
    """The order a click on the column ``sort`` asks for: the other way round when the view is already sorted
    by it, else ``first_order``."""
    if query.sort == sort:
        return "desc" if query.order == "asc" else "asc"
    return first_order(sort)


def parse_query(args: Mapping[str, str], tasks: Sequence[str], clusters: Sequence[str]) -> tuple[BoardQuery, dict]:
    """Validate the query arguments; returns the query and {field: [problem]} (empty when all is well)."""
    errors: dict[str, list[str]] = {}
    sorts = FIXED_SORTS + tuple(f"task.{name}" for name in tasks)
    sort = _choice(args, "sort", sorts, "rank", errors)
    order = _choice(args, "order", ("asc", "desc"), "asc", errors)
    cluster = _choice(args, "cluster", tuple(clusters) + ("",), "", errors)
    size = _choice(args, "size", SIZES + ("",), "", errors)
    licence = _choice(args, "licence", LICENCES + ("",), "", errors)
    page = _whole(args, "page", 1, errors)
    per_page = _whole(args, "per_page", 50, errors)
    if per_page not in PER_PAGE:
        errors.setdefault("per_page", []).append(f"must be one of {', '.join(map(str, PER_PAGE))}")
        per_page = 50
    return BoardQuery(sort, order, cluster, size, licence, page, per_page), errors


def _choice(args: Mapping[str, str], name: str, allowed: Sequence[str], default: str, errors: dict) -> str:
    value = args.get(name, default)
    if value not in allowed:
        shown = ", ".join(a for a in allowed if a) or "nothing"
        errors.setdefault(name, []).append(f"unknown value {value!r}; use one of {shown}")
        return default
    return value


def _whole(args: Mapping[str, str], name: str, default: int, errors: dict) -> int:
    raw = args.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        errors.setdefault(name, []).append("must be a whole number from 1")
        return default
    return int(raw)


def select_rows(rows: Sequence[dict], tasks: Sequence[str], query: BoardQuery) -> list[dict]:
    """The rows the query's filters keep, in the query's order (missing values always last)."""
    kept = [row for row in rows if _keeps(row, query)]
    if query.sort == "rank":
        return kept if query.order == "asc" else kept[::-1]
    value = _sort_value(query.sort, tasks)
    present = [row for row in kept if value(row) is not None]
    missing = [row for row in kept if value(row) is None]
    present.sort(key=lambda row: (value(row), row["position"]), reverse=query.order == "desc")
    return present + missing


def _keeps(row: dict, query: BoardQuery) -> bool:
    return (
        (not query.cluster or row["cluster"] == query.cluster)
        and (not query.size or row["size"] == query.size)
        and (not query.licence or (row["licence"] or "none") == query.licence)
    )


def _sort_value(sort: str, tasks: Sequence[str]):
    """A function giving a row's value for ``sort``."""
    if sort.startswith("task."):
        index = list(tasks).index(sort[5:])
        return lambda row: row["tasks"][index][2] if row["tasks"] else None
    field = {
        "team": "team",
        "model": "submission",
        "parameters": "parameters",
        "licence": "licence",
        "score": "score",
        "final": "final",
    }[sort]
    if field in ("team", "submission"):
        return lambda row: None if row[field] is None else row[field].casefold()
    return lambda row: row[field]


def paginate(rows: Sequence[dict], query: BoardQuery) -> tuple[list[dict], int, int]:
    """(the rows of the query's page, the number of pages, the page shown, clamped to the last page)."""
    pages = max(1, -(-len(rows) // query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    return list(rows[start : start + query.per_page]), pages, page


def view_rows(
    rows: Sequence[dict], tasks: Sequence[str], query: BoardQuery, paged: bool = True
) -> tuple[list[dict], int, int, int]:
    """Filter, sort and (when ``paged``) paginate: (rows, total after filters, pages, page)."""
    chosen = select_rows(rows, tasks, query)
    if not paged:
        return chosen, len(chosen), 1, 1
    shown, pages, page = paginate(chosen, query)
    return shown, len(chosen), pages, page
