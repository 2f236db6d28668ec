"""Read the scoring rules from a challenge's TOML configuration.

Two sections matter here: ``[scoring]`` (how benchmark and judges combine, the judges'
rubric and the tie-break chain) and ``[[benchmark.tasks]]`` (the benchmark suite). Every
problem is reported at once, each naming the key it is about, so an organiser can fix
the file in one pass.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.rubric import Criterion, Rubric

SCORE_KEYS = ("final_score", "benchmark_score", "judges_score")
TIE_BREAK_KEYS = (*SCORE_KEYS, "earlier_submission")
# Which of a team's submissions counts (``scoring.counted_submission``), and the sentence the board states.
# Under both, a submission whose evaluation failed never replaces a scored one (see `evaluation.counting`).
CHOSEN_OR_LATEST_SCORED = "chosen_or_latest_scored"
LATEST_SCORED = "latest_scored"
COUNTED_RULES = {
    CHOSEN_OR_LATEST_SCORED: "Each team's counted result is the evaluated submission it chose (until the board "
    "freezes), else its latest submission with a finished evaluation; a submission whose "
    "evaluation failed never replaces a scored one.",
    LATEST_SCORED: "Each team's counted result is its latest submission with a finished evaluation; a submission "
    "whose evaluation failed never replaces a scored one.",
}
_WEIGHT_TOLERANCE = 1e-9


class ConfigError(ValueError):
    """The configuration is invalid; ``errors`` lists each problem with its key."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class TaskSpec:
    """One task of the benchmark suite, as listed under ``[[benchmark.tasks]]``.

    ``hidden`` tasks count in the benchmark score but their per-task results are not
    shown publicly (so entrants cannot tune against them).
    """

    name: str
    lm_eval_task: str
    num_fewshot: int
    metric: str
    weight: float
    baseline: float
    hidden: bool = False


@dataclass(frozen=True)
class ScoreWeights:
    """How much the benchmark score and the judges' score count in the final score."""

    benchmark: float
    judges: float


@dataclass(frozen=True)
class RankingPolicy:
    """The tie-break chain applied after the primary score, in order.

    When ``break_ties_by_entry_id`` is on (the default), the entry id is always the
    last key, so two entries never share a rank and the order never depends on the
    order the database happened to return rows in.
    """

    tie_break: tuple[str, ...] = ("judges_score", "earlier_submission")
    break_ties_by_entry_id: bool = True


@dataclass(frozen=True)
class ScoringConfig:
    """The ``[scoring]`` section: score weights, the judges' rubric and the ranking policy."""

    weights: ScoreWeights
    rubric: Rubric
    ranking: RankingPolicy
    counted_submission: str = CHOSEN_OR_LATEST_SCORED  # a key of COUNTED_RULES

    @property
    def teams_may_choose(self) -> bool:
        """True when a team may choose which of its evaluated submissions counts."""
        return self.counted_submission == CHOSEN_OR_LATEST_SCORED

    @property
    def counted_rule_words(self) -> str:
        """The rule of the counted submission, in one sentence (the board states it)."""
        return COUNTED_RULES[self.counted_submission]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ScoringConfig:
        """Build from the ``[scoring]`` table of a challenge TOML; raises ConfigError."""
        errors: list[str] = []
        weights = _parse_weights(section.get("weights"), errors)
        rubric = _parse_rubric(section.get("rubric"), errors)
        ranking = _parse_ranking(section, errors)
        counted = section.get("counted_submission", CHOSEN_OR_LATEST_SCORED)
        if counted not in COUNTED_RULES:
            errors.append(
                f"scoring.counted_submission: unknown rule {counted!r}; use one of {', '.join(COUNTED_RULES)}"
            )
        if errors:
            raise ConfigError(errors)
        return cls(weights=weights, rubric=rubric, ranking=ranking, counted_submission=counted)

    @classmethod
    def default_2024(cls) -> ScoringConfig:
        """The scoring rules of the 2024 Large AI Grand Challenge (``DEFAULT_2024_TOML``)."""
        return cls.from_config(tomllib.loads(DEFAULT_2024_TOML)["scoring"])


def parse_benchmark_tasks(entries: Sequence[Mapping[str, Any]]) -> tuple[TaskSpec, ...]:
    """Build the benchmark suite from the ``[[benchmark.tasks]]`` list; raises ConfigError."""
    errors: list[str] = []
    if not isinstance(entries, Sequence) or not entries:
        raise ConfigError(["benchmark.tasks: must list at least one task"])
    tasks = [_parse_task(f"benchmark.tasks[{i}]", entry, errors) for i, entry in enumerate(entries)]
    names = [task.name for task in tasks if task is not None]
    for name in sorted({name for name in names if names.count(name) > 1}):
        errors.append(f"benchmark.tasks: task name '{name}' is listed more than once")
    if errors:
        raise ConfigError(errors)
    return tuple(task for task in tasks if task is not None)


def _parse_task(where: str, entry: Any, errors: list[str]) -> TaskSpec | None:
    """One ``[[benchmark.tasks]]`` entry, or None with its problems added to ``errors``."""
    if not isinstance(entry, Mapping):
        errors.append(f"{where}: must be a table")
        return None
    before = len(errors)
    name = _text(entry, "name", where, errors)
    metric = _text(entry, "metric", where, errors)
    lm_eval_task = _text(entry, "lm_eval_task", where, errors, default=name)
    num_fewshot = entry.get("num_fewshot", 0)
    if isinstance(num_fewshot, bool) or not isinstance(num_fewshot, int) or num_fewshot < 0:
        errors.append(f"{where}.num_fewshot: must be a whole number >= 0, got {num_fewshot!r}")
    weight = _number(entry, "weight", where, errors, default=1.0)
    if weight is not None and weight <= 0:
        errors.append(f"{where}.weight: must be greater than 0, got {weight!r}")
    baseline = _number(entry, "baseline", where, errors)
    if baseline is not None and not 0.0 <= baseline < 1.0:
        errors.append(f"{where}.baseline: must be in [0, 1), got {baseline!r}")
    hidden = entry.get("hidden", False)
    if not isinstance(hidden, bool):
        errors.append(f"{where}.hidden: must be true or false, got {hidden!r}")
    if len(errors) > before:
        return None
    return TaskSpec(name, lm_eval_task, num_fewshot, metric, float(weight), float(baseline), hidden)


def _parse_weights(table: Any, errors: list[str]) -> ScoreWeights:
    """``[scoring.weights]``: benchmark and judges, each in [0, 1], summing to 1."""
    if not isinstance(table, Mapping):
        errors.append("scoring.weights: must be a table with 'benchmark' and 'judges'")
        return ScoreWeights(0.0, 0.0)
    values = {}
    for key in ("benchmark", "judges"):
        value = _number(table, key, "scoring.weights", errors)
        if value is not None and not 0.0 <= value <= 1.0:
            errors.append(f"scoring.weights.{key}: must be in [0, 1], got {value!r}")
        values[key] = value or 0.0
    for unknown in sorted(set(table) - {"benchmark", "judges"}):
        errors.append(f"scoring.weights.{unknown}: unknown key")
    if abs(values["benchmark"] + values["judges"] - 1.0) > _WEIGHT_TOLERANCE:
        errors.append("scoring.weights: benchmark and judges must sum to 1")
    return ScoreWeights(values["benchmark"], values["judges"])


def _parse_rubric(entries: Any, errors: list[str]) -> Rubric:
    """``[[scoring.rubric]]``: the criteria, with unique ids and weights summing to 1."""
    if not isinstance(entries, Sequence) or not entries:
        errors.append("scoring.rubric: must list at least one criterion")
        return Rubric(())
    parsed = [_parse_criterion(f"scoring.rubric[{i}]", e, errors) for i, e in enumerate(entries)]
    criteria = tuple(criterion for criterion in parsed if criterion is not None)
    ids = [criterion.id for criterion in criteria]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"scoring.rubric: criterion id '{duplicate}' is listed more than once")
    if len(criteria) == len(parsed):
        total = math.fsum(criterion.weight for criterion in criteria)
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            errors.append(f"scoring.rubric: criterion weights must sum to 1, got {total:g}")
    return Rubric(criteria)


def _parse_criterion(where: str, entry: Any, errors: list[str]) -> Criterion | None:
    """One rubric criterion: id, title, weight, ``scale = [min, max]`` and anchors."""
    if not isinstance(entry, Mapping):
        errors.append(f"{where}: must be a table")
        return None
    before = len(errors)
    criterion_id = _text(entry, "id", where, errors)
    title = _text(entry, "title", where, errors)
    weight = _number(entry, "weight", where, errors)
    if weight is not None and weight <= 0:
        errors.append(f"{where}.weight: must be greater than 0, got {weight!r}")
    scale = entry.get("scale")
    if not _is_int_pair(scale) or scale[0] >= scale[1]:
        errors.append(f"{where}.scale: must be [min, max] whole numbers with min < max")
        return None
    anchors = _parse_anchors(f"{where}.anchors", entry.get("anchors"), scale, errors)
    if len(errors) > before:
        return None
    return Criterion(criterion_id, title, float(weight), scale[0], scale[1], anchors)


def _parse_anchors(where: str, table: Any, scale: Sequence[int], errors: list[str]) -> tuple[tuple[int, str], ...]:
    """Anchor texts keyed by score (TOML keys are strings: ``0 = "..."``).

    Both ends of the scale need an anchor, so judges know what the extremes mean.
    """
    if not isinstance(table, Mapping):
        errors.append(f'{where}: must be a table of score = "text"')
        return ()
    anchors = []
    for key, text in table.items():
        try:
            score = int(key)
        except (TypeError, ValueError):
            errors.append(f"{where}.{key}: key must be a whole-number score")
            continue
        if not scale[0] <= score <= scale[1]:
            errors.append(f"{where}.{key}: score is outside the scale {scale[0]}-{scale[1]}")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}.{key}: must be a non-empty text")
        anchors.append((score, text))
    present = {score for score, _ in anchors}
    for end in (scale[0], scale[1]):
        if end not in present:
            errors.append(f"{where}: needs an anchor for score {end} (an end of the scale)")
    return tuple(sorted(anchors))


def _parse_ranking(section: Mapping[str, Any], errors: list[str]) -> RankingPolicy:
    """``tie_break`` (known keys, no repeats) and ``tie_break_by_entry_id`` (default true)."""
    chain = section.get("tie_break", list(RankingPolicy.tie_break))
    if not isinstance(chain, Sequence) or isinstance(chain, str):
        errors.append("scoring.tie_break: must be a list of keys")
        chain = []
    for i, key in enumerate(chain):
        if key not in TIE_BREAK_KEYS:
            errors.append(
                f"scoring.tie_break[{i}]: unknown key {key!r}; use one of "
                f"{', '.join(TIE_BREAK_KEYS)} (the entry id is switched on by "
                "scoring.tie_break_by_entry_id)"
            )
    if len(set(chain)) != len(chain):
        errors.append("scoring.tie_break: a key is listed more than once")
    by_id = section.get("tie_break_by_entry_id", True)
    if not isinstance(by_id, bool):
        errors.append(f"scoring.tie_break_by_entry_id: must be true or false, got {by_id!r}")
    return RankingPolicy(tuple(chain), by_id is not False)


def _text(entry: Mapping[str, Any], key: str, where: str, errors: list[str], default: Any = None) -> Any:
    """A required non-empty string at ``entry[key]`` (or ``default`` when given and absent)."""
    value = entry.get(key, default)
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}.{key}: must be a non-empty text, got {value!r}")
    return value


def _number(entry: Mapping[str, Any], key: str, where: str, errors: list[str], default: Any = None) -> float | None:
    """A finite number at ``entry[key]`` (bools refused), or None with an error added."""
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors.append(f"{where}.{key}: must be a number, got {value!r}")
        return None
    return float(value)


def _is_int_pair(value: Any) -> bool:
    """True when ``value`` is a two-item list of whole numbers."""
    return (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


DEFAULT_2024_TOML = """
[scoring]
# The final score: 60% benchmark, 40% judges. Before judging is in, the final score is empty
# and the public board ranks by the benchmark score.
weights = { benchmark = 0.6, judges = 0.4 }
# After the primary score: the higher judges' score wins, then the earlier submission.
tie_break = ["judges_score", "earlier_submission"]
# Always end with the entry id, so the order is deterministic and no two entries share a rank.
tie_break_by_entry_id = true
# Which submission counts for each team: "chosen_or_latest_scored" (the evaluated submission the team chose
# on its submissions page, until the board freezes; else its latest one with a finished evaluation) or
# "latest_scored" (teams do not choose). Either way, a failed evaluation never replaces a scored submission.
counted_submission = "chosen_or_latest_scored"

[[scoring.rubric]]
id = "technical_excellence"
title = "Technical excellence"
weight = 0.3
scale = [0, 10]
anchors = { 0 = "No working model, or the method is unsound.", 5 = "A competent model trained with sound, standard methods; results are reproducible.", 10 = "State-of-the-art quality for its size, with a clear and well-evidenced technical advance." }

[[scoring.rubric]]
id = "european_languages_and_impact"
title = "European languages and impact"
weight = 0.25
scale = [0, 10]
anchors = { 0 = "English only, with no plausible benefit for European users or industry.", 5 = "Serves several EU languages reasonably well and has a credible use case.", 10 = "Strong across the EU's official languages, including low-resource ones, with clear impact on European users and industry." }

[[scoring.rubric]]
id = "responsible_ai"
title = "Responsible AI"
weight = 0.15
scale = [0, 10]
anchors = { 0 = "No data documentation, safety evaluation or risk assessment.", 5 = "Training data documented and basic safety and bias evaluations reported.", 10 = "Thorough data governance, red-teaming and mitigations, in line with the AI Act's expectations for general-purpose models." }

[[scoring.rubric]]
id = "feasibility_of_plan"
title = "Feasibility of the plan"
weight = 0.2
scale = [0, 10]
anchors = { 0 = "No credible plan for the compute, team or timeline.", 5 = "A workable plan with identified risks, though some are unmitigated.", 10 = "A detailed, realistic plan; compute budget, team and milestones clearly match the ambition." }

[[scoring.rubric]]
id = "openness"
title = "Openness"
weight = 0.1
scale = [0, 10]
anchors = { 0 = "Closed weights, closed data, no technical report.", 5 = "Open weights under a permissive licence and a technical report.", 10 = "Open weights, code, training data recipe and evaluation harness, all reusable by others." }
"""


def parse_benchmark_section(section: Mapping[str, Any]) -> tuple[TaskSpec, ...]:
    """The `[benchmark]` section of a challenge configuration: its `[[benchmark.tasks]]` entries."""
    if not isinstance(section, Mapping):
        raise ConfigError(["benchmark must be a table with a tasks list"])
    return parse_benchmark_tasks(section.get("tasks", []))
