"""The one CSV writer of the platform: files that are safe to open in a spreadsheet.

Following OWASP's advice on CSV injection, a text cell that begins with `=`, `+`, `-`, `@`, a tab or a
carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead of running it as
a formula (a team named `=HYPERLINK(...)` stays a name). The csv module quotes cells holding separators,
quotes or line breaks and doubles their quotes, so no cell can break out into the next.

Decision: numbers (int, float, Decimal) are values the platform computed, not text anyone typed, and are
written as numbers: a negative score stays `-0.25`, sortable and summable, not the text `'-0.25`. Only text
is neutralised, so a team named `-1` is written `'-1`. Pure standard library.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One cell as text: empty for None, `true`/`false`, a number as written by Python, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV document (RFC 4180 quoting, CRLF line ends) with every cell passed through `cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
