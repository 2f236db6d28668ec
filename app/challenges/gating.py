"""The phase gate: which entrant actions a challenge's phases allow at a moment, and why not, in words.

Pure: the standard library only; the moment is passed in. A phase allows the actions its `allows` lists
(`[[phases]] allows = ["register", "apply"]`), or, without `allows`, the defaults of its key. A phase is
open from `starts` (included) to `ends` (excluded), as `ChallengeConfig.phase_at` reads it. Phases that
follow each other without a gap and allow the same action make one window, so the deadline shown is the
end of the window, not of the first phase in it.

Organisers' own actions (reviews, baselines, configuration) are not entrant actions: nothing here gates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional, Protocol

# The entrant actions a phase may allow, each with the words its messages start with.
ACTIONS: dict[str, str] = {
    "register": "Team registration",
    "apply": "Eligibility applications",
    "submit": "Checkpoint submissions",
}
_SINGULAR = {"register"}  # "Team registration opens"; the others: "... open"
# What a phase allows when its `allows` is absent: by its key; any other key allows nothing.
DEFAULT_ALLOWS: dict[str, tuple[str, ...]] = {
    "registration": ("register", "apply"),
    "submission": ("submit",),
}


class PhaseLike(Protocol):
    key: str
    name: str
    starts: datetime
    ends: datetime

    @property
    def actions(self) -> frozenset[str]: ...


def default_allows(key: str) -> tuple[str, ...]:
    """The actions a phase with this key allows when its configuration does not say."""
    return DEFAULT_ALLOWS.get(key, ())


def unknown_actions(names: Iterable[str]) -> list[str]:
    """The names that are not entrant actions, in their order."""
    return [name for name in names if name not in ACTIONS]


@dataclass(frozen=True)
class PhaseGate:
    """Whether `action` is allowed at `moment`, the reason in words, and the dates behind it.

    `opens` and `closes` bound the window that is open now (`allowed`) or opens next (not `allowed`);
    `closed` is when the last window ended, when one did. `phase` is the phase running at the moment (any
    phase, whatever it allows), or None between and outside phases.
    """

    action: str
    moment: datetime
    allowed: bool
    reason: str
    phase: Optional[PhaseLike] = None
    opens: Optional[datetime] = None
    closes: Optional[datetime] = None
    closed: Optional[datetime] = None

    @property
    def summary(self) -> str:
        """The reason with how far away its date is, for pages: "Checkpoint submissions close on 30 Apr 2024
        15:00 UTC (in 3 days)."; a closed gate with no window ahead says only when it closed."""
        ahead = self.closes if self.allowed else self.opens
        if ahead is None:
            return self.reason
        return f"{self.reason[:-1]} ({until(self.moment, ahead)})."


def windows(phases: Iterable[PhaseLike], action: str) -> list[tuple[datetime, datetime]]:
    """The spans (starts, ends) in which `action` is allowed, in time order, adjacent phases merged."""
    spans: list[tuple[datetime, datetime]] = []
    for phase in sorted((p for p in phases if action in p.actions), key=lambda p: p.starts):
        if spans and phase.starts <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], phase.ends))
        else:
            spans.append((phase.starts, phase.ends))
    return spans


def gate(phases: Iterable[PhaseLike], action: str, moment: datetime) -> PhaseGate:
    """Whether the phases allow `action` at `moment` (aware), with the reason an entrant reads."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; the actions are {', '.join(ACTIONS)}")
    phases = tuple(phases)
    running = next((p for p in phases if p.starts <= moment < p.ends), None)
    spans = windows(phases, action)
    current = next((s for s in spans if s[0] <= moment < s[1]), None)
    if current is not None:
        return PhaseGate(
            action,
            moment,
            True,
            f"{_says(action, 'close')} on {utc_words(current[1])}.",
            running,
            opens=current[0],
            closes=current[1],
        )
    upcoming = next((s for s in spans if s[0] > moment), None)
    past = [s for s in spans if s[1] <= moment]
    closed = past[-1][1] if past else None
    if upcoming is not None and closed is not None:
        again = "it opens" if action in _SINGULAR else "they open"
        reason = f"{ACTIONS[action]} closed on {utc_words(closed)}; {again} again on {utc_words(upcoming[0])}."
    elif upcoming is not None:
        reason = f"{_says(action, 'open')} on {utc_words(upcoming[0])}."
    elif closed is not None:
        reason = f"{ACTIONS[action]} closed on {utc_words(closed)}."
    else:
        reason = f"No phase of this challenge allows {ACTIONS[action].lower()}."
    return PhaseGate(
        action,
        moment,
        False,
        reason,
        running,
        opens=upcoming[0] if upcoming else None,
        closes=upcoming[1] if upcoming else None,
        closed=closed,
    )


def _says(action: str, verb: str) -> str:
    """The action's words with the verb agreeing: "Team registration opens", "Checkpoint submissions open"."""
    return f"{ACTIONS[action]} {verb}{'s' if action in _SINGULAR else ''}"


def utc_words(moment: datetime) -> str:
    """A date and time in UTC as people read it: "30 Apr 2024 15:00 UTC"."""
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def until(moment: datetime, later: datetime) -> str:
    """How long from `moment` to `later`, rounded down to the largest unit: "in 3 days", "in 5 hours"."""
    seconds = int((later - moment).total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"in {count} {unit}{'' if count == 1 else 's'}"
    return "in less than a minute"


def phase_boundaries(phases: Iterable[tuple[str, datetime, datetime]], now: datetime) -> list[tuple[str, str]]:
    """(phase key, "phase.opened" | "phase.closed") for every boundary at or before ``now``, in time order."""
    events = []
    for key, starts, ends in phases:
        if starts <= now:
            events.append((starts, key, "phase.opened"))
        if ends <= now:
            events.append((ends, key, "phase.closed"))
    return [(key, action) for _, key, action in sorted(events, key=lambda e: (e[0], e[2] == "phase.opened"))]


def next_boundary(phases: Iterable[tuple[str, datetime, datetime]], now: datetime) -> datetime | None:
    """The first phase start or end after ``now`` (None when every phase is over)."""
    later = [moment for _, starts, ends in phases for moment in (starts, ends) if moment > now]
    return min(later) if later else None
