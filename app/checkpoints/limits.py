"""Per-team submission limits (`[limits]` in the challenge configuration) and the pure decision on them.

Pure standard library: the counts are gathered (under a lock on the team) by `services.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from scoring.units import exact_bytes

GB = 1_000_000_000


@dataclass(frozen=True)
class SubmissionLimits:
    """How many submissions a team may make, and how large each may be."""

    submissions_per_day: int = 3  # per UTC day
    submissions_total: int = 20
    max_bytes_per_submission: int = 200 * GB  # a 30B model in bf16 is about 60 GB
    upload_expiry_hours: int = 48  # an upload untouched this long is abandoned and cleaned up

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "SubmissionLimits":
        """Parse `[limits]`; every key is optional and must be a positive whole number."""
        if not isinstance(section, Mapping):
            raise ValueError("[limits] must be a table")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"unknown keys {unknown}; expected some of {sorted(known)}")
        for key, value in section.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"limits.{key} must be a whole number of at least 1, not {value!r}")
        return cls(**dict(section))


def limit_problem(limits: SubmissionLimits, today_count: int, total_count: int) -> str | None:
    """Why the team may not start another submission, or None when it may.

    The counts are the team's submissions that did not fail validation: today's (UTC) and all of them.
    """
    if total_count >= limits.submissions_total:
        return (
            f"Your team has used all {limits.submissions_total} submissions this challenge allows "
            "(submissions refused by validation do not count)."
        )
    if today_count >= limits.submissions_per_day:
        return (
            f"Your team has made {today_count} submissions today, the daily limit "
            f"({limits.submissions_per_day}); try again after midnight UTC."
        )
    return None


def size_problem(limits: SubmissionLimits, current_bytes: int, new_bytes: int) -> str | None:
    """Why a file of `new_bytes` cannot join a submission already holding `current_bytes`."""
    if current_bytes + new_bytes > limits.max_bytes_per_submission:
        return (
            f"The submission would hold {exact_bytes(current_bytes + new_bytes)}, over the limit of "
            f"{exact_bytes(limits.max_bytes_per_submission)} per submission."
        )
    return None
