"""Refusals by kind: services raise a `DomainError` saying what kind of refusal it is (the input is invalid,
the state conflicts, the thing is not found, ...) in words a person can act on, and never an HTTP status.
The web and API shell answers each kind with its status, in one place (`app.api.problems.status_of`).

A leaf: it imports nothing of the platform, so every layer may raise these.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Optional


class Kind(Enum):
    """Why a rule refused an action."""

    invalid = "invalid"  # the input breaks a rule; sending it corrected will do
    conflict = "conflict"  # the state does not allow it now (closed, locked, already done, changed meanwhile)
    not_found = "not_found"  # no such thing, or none the caller may see
    forbidden = "forbidden"  # the caller may not do this
    too_large = "too_large"  # the input is over a size limit
    too_many = "too_many"  # over a count or rate limit; later it may work
    unavailable = "unavailable"  # a service outside the platform failed (the Hugging Face Hub)


class DomainError(Exception):
    """A refusal: `message` in words, its `kind`, the one input at fault (`field`) or messages per input
    (`errors`). A family of errors may fix its kind (`kind = Kind.conflict`) or take one per refusal."""

    kind: ClassVar[Kind] = Kind.invalid

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[Kind] = None,
        field: Optional[str] = None,
        errors: Optional[dict[str, list[str]]] = None,
    ):
        super().__init__(message)
        self.message, self.field, self.errors = message, field, errors
        if kind is not None:
            self.kind = kind  # type: ignore[misc]  (an instance's kind overrides its family's)

    def field_errors(self) -> Optional[dict[str, list[str]]]:
        """Messages per input: the given `errors`, else the message under `field`, else None."""
        if self.errors:
            return self.errors
        return {self.field: [self.message]} if self.field else None
