"""Which of a team's submissions, and which evaluation of it, counts: the one rule every reader follows.

Pure: the standard library and `scoring.config` only. The shell (`evaluation.counted`) reads each team's
accepted submissions, their primary evaluations and the team's choices, and calls `decide`.

The rule, as of a cut-off ``as_of`` (None: everything so far):

1. Only what existed at ``as_of`` is seen: submissions accepted by then, evaluations finished (or failed) by
   then, the choices made by then. An evaluation still running at ``as_of`` is in flight, even if it has
   finished since.
2. A submission is *scored* when one of its primary evaluations finished; its counted evaluation is the
   latest one that finished (by ``finished_at``, then id). Only `COUNTED_PURPOSES` runs count: a re-run of the
   same submission elsewhere (a reproducibility check) never becomes the counted evaluation.
3. Where the challenge lets teams choose (``scoring.counted_submission = "chosen_or_latest_scored"``), the
   team's latest choice in force names a scored submission: that one counts.
4. Otherwise the team's latest scored submission counts (by ``accepted_at``, then id). A submission whose
   evaluation failed, or is still running, never replaces a scored one; the board notes the newer one.
5. A team with no scored submission is *pending* while one of its submissions is being evaluated (naming the
   latest such), *failed* when every evaluation failed (naming the latest submission), and *none* without an
   accepted submission.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from scoring.config import CHOSEN_OR_LATEST_SCORED

# Evaluation purposes (`evaluation.models.EvaluationPurpose` values) whose runs can count for a team.
COUNTED_PURPOSES = ("primary",)
SCORED, PENDING, FAILED, NONE = "scored", "pending", "failed", "none"
EVALUATING = "evaluating"  # a submission whose evaluation is in flight (queued, running or due for a retry)
_SETTLED_UNSCORED = ("failed", "cancelled")  # terminal states without a result (a failure due a retry is not)
_EARLIEST = datetime.min


@dataclass(frozen=True, slots=True)
class Run:
    """One primary evaluation of a submission: its state and when it ended (None while it has not)."""

    evaluation_id: int
    state: str  # an `evaluation.models.EvaluationState` value
    finished_at: Optional[datetime]
    retrying: bool = False  # failed, with a retry due: still in flight


@dataclass(frozen=True, slots=True)
class Candidate:
    """One of the team's accepted submissions with its primary runs."""

    submission_id: int
    accepted_at: Optional[datetime]
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """A team's choice, made at ``chosen_at``: the submission that counts, or None for the default rule."""

    submission_id: Optional[int]
    chosen_at: datetime
    id: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """What counts for one team.

    ``status``: `SCORED` (``submission_id`` and ``evaluation_id`` count), `PENDING` or `FAILED` (no score;
    ``submission_id`` names the submission being evaluated, or the latest one that failed) or `NONE`.
    ``chosen``: the team chose the counted submission. ``newer_id``/``newer_state``: the newest submission
    after the counted one that is not scored, and whether it is `EVALUATING` or `FAILED`.
    """

    status: str
    submission_id: Optional[int] = None
    evaluation_id: Optional[int] = None
    chosen: bool = False
    newer_id: Optional[int] = None
    newer_state: Optional[str] = None


NOTHING = Decision(NONE)


def decide(
    candidates: Iterable[Candidate],
    choices: Sequence[Choice],
    as_of: Optional[datetime],
    rule: str = CHOSEN_OR_LATEST_SCORED,
) -> Decision:
    """Apply the rule (see the module docstring) to one team's submissions and choices as of ``as_of``."""
    candidates = candidates if isinstance(candidates, (list, tuple)) else list(candidates)
    if len(candidates) == 1 and not choices:  # most teams on a large board: the same rule, without sorting
        only = candidates[0]
        if not _existed(only.accepted_at, as_of):
            return NOTHING
        state, evaluation_id = submission_state(only.runs, as_of)
        return Decision(PENDING if state == EVALUATING else state, only.submission_id, evaluation_id)
    seen = sorted(
        (c for c in candidates if _existed(c.accepted_at, as_of)),
        key=lambda c: (c.accepted_at or _EARLIEST, c.submission_id),
        reverse=True,
    )
    if not seen:
        return NOTHING
    states = {c.submission_id: submission_state(c.runs, as_of) for c in seen}
    chosen = _chosen(choices, as_of) if rule == CHOSEN_OR_LATEST_SCORED else None
    counted = next((c for c in seen if c.submission_id == chosen and states[chosen][0] == SCORED), None)
    if counted is None:
        counted = next((c for c in seen if states[c.submission_id][0] == SCORED), None)
    if counted is None:
        waiting = next((c for c in seen if states[c.submission_id][0] == EVALUATING), None)
        return Decision(PENDING, waiting.submission_id) if waiting else Decision(FAILED, seen[0].submission_id)
    newer = next((c for c in seen[: seen.index(counted)] if states[c.submission_id][0] != SCORED), None)
    return Decision(
        SCORED,
        counted.submission_id,
        states[counted.submission_id][1],
        chosen=counted.submission_id == chosen,
        newer_id=newer.submission_id if newer else None,
        newer_state=states[newer.submission_id][0] if newer else None,
    )


def _existed(moment: Optional[datetime], as_of: Optional[datetime]) -> bool:
    """True when something dated ``moment`` existed at ``as_of`` (undated things only when there is no cut-off)."""
    return as_of is None or (moment is not None and moment <= as_of)


def submission_state(runs: Sequence[Run], as_of: Optional[datetime]) -> tuple[str, Optional[int]]:
    """(`SCORED` with its counted evaluation's id (the latest finished run) | `EVALUATING` | `FAILED`, None)
    of one submission as of ``as_of``."""
    finished = [run for run in runs if run.state == "finished" and _existed(run.finished_at, as_of)]
    if finished:
        latest = max(finished, key=lambda run: (run.finished_at or _EARLIEST, run.evaluation_id))
        return SCORED, latest.evaluation_id
    settled = [
        run for run in runs if run.state in _SETTLED_UNSCORED and not run.retrying and _existed(run.finished_at, as_of)
    ]
    return (FAILED if runs and len(settled) == len(runs) else EVALUATING), None


def _chosen(choices: Sequence[Choice], as_of: Optional[datetime]) -> Optional[int]:
    """The submission named by the team's latest choice made by ``as_of`` (None: none, or the default)."""
    made = [choice for choice in choices if _existed(choice.chosen_at, as_of)]
    return max(made, key=lambda choice: (choice.chosen_at, choice.id)).submission_id if made else None
