"""The judges' rubric: criteria, their weights and scales, and the judges' score.

Each judge fills in one score sheet: an integer per criterion on the criterion's scale
(for example 0 to 10), guided by written anchors ("0 means ..., 5 means ..."). A sheet
becomes one number in [0, 1] by rescaling each criterion to [0, 1] and taking the
weighted mean; the judges' score is the mean of those numbers over the judges.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    """One thing the judges score, such as technical excellence.

    ``anchors`` pairs a score on the scale with the text that tells judges what that
    score means, sorted by score.
    """

    id: str
    title: str
    weight: float
    scale_min: int
    scale_max: int
    anchors: tuple[tuple[int, str], ...] = ()

    def anchor_text(self, score: int) -> str | None:
        """The written anchor for exactly ``score``, or None when the scale has none there."""
        return dict(self.anchors).get(score)


@dataclass(frozen=True)
class Rubric:
    """The criteria the judges score, in the order the challenge configuration lists them."""

    criteria: tuple[Criterion, ...]

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        """The criterion ids in configuration order."""
        return tuple(criterion.id for criterion in self.criteria)


@dataclass(frozen=True)
class JudgesScore:
    """The judges' score in [0, 1]: the mean over judges of their weighted rubric scores.

    ``stderr`` is the sample standard deviation across judges divided by sqrt(n), or
    None when only one judge has scored (one opinion carries no spread to measure).
    """

    value: float
    stderr: float | None
    n_judges: int
    per_judge: tuple[float, ...] = ()


def validate_rubric_scores(rubric: Rubric, scores: Mapping[str, int]) -> list[str]:
    """Return every problem with one judge's score sheet, in words; empty means valid.

    Reports criteria left unscored, scores that are not whole numbers, scores outside
    the criterion's scale, and criteria the rubric does not have.
    """
    errors: list[str] = []
    known = {criterion.id for criterion in rubric.criteria}
    for criterion in rubric.criteria:
        if criterion.id not in scores:
            errors.append(f"{criterion.id}: missing score for '{criterion.title}'")
            continue
        score = scores[criterion.id]
        if isinstance(score, bool) or not isinstance(score, int):
            errors.append(f"{criterion.id}: score must be a whole number, got {score!r}")
        elif not criterion.scale_min <= score <= criterion.scale_max:
            errors.append(
                f"{criterion.id}: score {score} is outside the scale {criterion.scale_min}-{criterion.scale_max}"
            )
    for unknown in sorted(set(scores) - known):
        errors.append(f"{unknown}: not a criterion of this rubric")
    return errors


def weighted_rubric_score(rubric: Rubric, scores: Mapping[str, int]) -> float:
    """One judge's sheet as a number in [0, 1]: the weighted mean of rescaled criteria.

    Each criterion's score is rescaled from its own scale to [0, 1] first, so criteria
    with different scales count only by their weights. Raises ValueError listing the
    problems when the sheet is not valid.
    """
    errors = validate_rubric_scores(rubric, scores)
    if errors:
        raise ValueError("invalid rubric scores: " + "; ".join(errors))
    total_weight = math.fsum(criterion.weight for criterion in rubric.criteria)
    weighted = math.fsum(
        criterion.weight * (scores[criterion.id] - criterion.scale_min) / (criterion.scale_max - criterion.scale_min)
        for criterion in rubric.criteria
    )
    return weighted / total_weight


def judges_score(rubric: Rubric, sheets: Sequence[Mapping[str, int]]) -> JudgesScore | None:
    """The mean weighted rubric score over the judges' sheets, with its standard error.

    Returns None when no judge has scored yet. Raises ValueError when any sheet is
    invalid, so one bad sheet cannot silently shift the mean.
    """
    if not sheets:
        return None
    per_judge = tuple(weighted_rubric_score(rubric, sheet) for sheet in sheets)
    n = len(per_judge)
    stderr = statistics.stdev(per_judge) / math.sqrt(n) if n > 1 else None
    return JudgesScore(value=math.fsum(per_judge) / n, stderr=stderr, n_judges=n, per_judge=per_judge)
