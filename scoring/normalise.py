"""Normalise one task's metric against its random-chance baseline.

A model that guesses at random scores 0 and a perfect model scores 1, so tasks with
different numbers of answer options (a 4-way multiple choice has baseline 0.25, a
yes/no task 0.5) can be averaged fairly. This is the Open LLM Leaderboard's rule:
``(value - baseline) / (1 - baseline)``, clipped at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CHANCE = 0.0  # the normalised score of random guessing, and the floor every normalised score is clipped at


@dataclass(frozen=True)
class NormalisedScore:
    """A task score rescaled so random chance is 0 and a perfect score is 1.

    ``stderr`` is the raw standard error divided by ``1 - baseline`` (the rescaling is
    linear, so the error scales the same way), or None when the raw metric had none.
    A clipped score keeps its propagated stderr: clipping hides how far below chance
    the model was, not how noisy the measurement is.
    """

    value: float
    stderr: float | None
    raw: float
    baseline: float
    clipped: bool


def normalise(value: float, baseline: float, stderr: float | None = None) -> NormalisedScore:
    """Rescale ``value`` so that ``baseline`` maps to 0 and 1 maps to 1, clipped at 0.

    Raises ValueError when the baseline is outside [0, 1), the value is not a finite
    number, or the stderr is negative or not finite. Values above 1 are not clipped:
    a metric that can exceed 1 is the task's business, not this function's.
    """
    _require_number("value", value)
    _require_number("baseline", baseline)
    if not 0.0 <= baseline < 1.0:
        raise ValueError(f"baseline must be in [0, 1), got {baseline!r}")
    if stderr is not None:
        _require_number("stderr", stderr)
        if stderr < 0:
            raise ValueError(f"stderr must not be negative, got {stderr!r}")
    rescaled = rescale(value, baseline)
    return NormalisedScore(
        value=max(rescaled, CHANCE),
        stderr=None if stderr is None else stderr / (1.0 - baseline),
        raw=value,
        baseline=baseline,
        clipped=rescaled < CHANCE,
    )


def rescale(value, baseline: float):
    """The linear part of the rule, before clipping: ``(value - baseline) / (1 - baseline)``.

    Written with operators only, so it applies elementwise to a numpy array as well as to a
    float: the paired comparisons (``scoring.paired``) rescale thousands of resampled means
    with this same function and clip them at ``CHANCE``.
    """
    return (value - baseline) / (1.0 - baseline)


def _require_number(name: str, number: object) -> None:
    """Raise ValueError unless ``number`` is a finite int or float (bools are refused)."""
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise ValueError(f"{name} must be a number, got {number!r}")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number!r}")
