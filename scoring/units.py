"""Quantities in the units people read: the one formatter of byte counts for every page, message and reason.

Decimal units (1 kB = 1,000 bytes), as disk and GPU data sheets and the challenges' limits state them, with
one decimal below 100 and none above: "621 kB", "1.5 MB", "60.2 GB", "200 GB". It lives in this bottom,
standard-library-only package so that every layer can use it: the web pages, the intake's messages and the
evaluation planner's reasons (whose core imports nothing of the web application) alike.
"""

from __future__ import annotations

from typing import Optional

UNITS = ("kB", "MB", "GB", "TB", "PB")


def human_bytes(count: Optional[int]) -> str:
    """A byte count as "621 kB", "1.5 MB", "60.2 GB" (under 1,000: "512 bytes"); "—" when unknown."""
    if count is None:
        return "—"
    if count < 1000:
        return f"{count:,} byte" + ("" if count == 1 else "s")
    for power, unit in enumerate(UNITS, start=1):
        scaled = count / 1000**power
        shown = f"{scaled:.1f}" if scaled < 99.95 else f"{scaled:.0f}"
        if float(shown) < 1000 or unit == UNITS[-1]:
            return f"{shown} {unit}"
    raise AssertionError("unreachable")


def exact_bytes(count: int) -> str:
    """A byte count for a limit's message, readable and exact: "4.0 kB (4,000 bytes)", "999 bytes"."""
    shown = human_bytes(count)
    return shown if count < 1000 else f"{shown} ({count:,} bytes)"
