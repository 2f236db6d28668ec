"""Reading a JSON document sent by someone else (an API body, the eligibility form's JSON box) safely.

The size and the nesting depth are checked *before* the document is parsed: Python's parser recurses once
per level of brackets, so about 1,000 levels end in a RecursionError (a 500) rather than a clear refusal.
Every request body and pasted document goes through `load_json`: one rule, one place. Strict JSON only:
`NaN` and `Infinity`, which Python's parser would accept, are refused.

Pure standard library.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_BYTES = 1024 * 1024  # 1 MiB: an eligibility application with 30 partners is about 10 KB
MAX_JSON_DEPTH = 32  # levels of objects and arrays; the deepest document the platform takes has 3

# A complete string (no backtracking into it), a bracket, or a quote that opens a string never closed: the
# parser stops at that quote, so nothing after it can make it recurse deeper.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]|"', re.DOTALL)


class JsonBodyError(ValueError):
    """A document refused before or while parsing, with the HTTP status to answer (400 or 413)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def nesting_depth(text: str, stop_above: int | None = None) -> int:
    """The deepest nesting of objects and arrays in `text` (brackets inside strings do not count); linear
    in the length, and it stops counting once the depth passes `stop_above`. On malformed text it may
    overstate the depth, never understate the depth the parser would reach."""
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if stop_above is not None and deepest > stop_above:
                break
        elif token in "]}":
            depth = max(depth - 1, 0)
        elif token == '"':
            break
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_size(size: int, max_bytes: int = MAX_JSON_BYTES) -> None:
    """Refuse (413) a document of `size` bytes over the limit, e.g. from its Content-Length before reading."""
    if size > max_bytes:
        raise JsonBodyError(413, f"The JSON document is {size:,} bytes; the limit is {max_bytes:,} bytes.")


def load_json(raw: bytes | str, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON document within the limits; raises `JsonBodyError` (413 too large, 400 too deep or not
    JSON) with a message that names the limit. Bytes may be UTF-8, -16 or -32, as RFC 8259 allows."""
    check_size(len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass")), max_bytes)
    if isinstance(raw, bytes):
        try:
            text = raw.decode(json.detect_encoding(raw))
        except UnicodeDecodeError as problem:
            raise JsonBodyError(400, f"This is not valid JSON: it is not UTF-8 text (byte {problem.start}).") from None
    else:
        text = raw
    if nesting_depth(text, stop_above=max_depth) > max_depth:
        raise JsonBodyError(
            400,
            f"The JSON document nests objects and arrays more than {max_depth} levels deep; the limit is {max_depth}.",
        )
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as problem:
        raise JsonBodyError(400, f"This is not valid JSON: {problem}") from None
