"""The JSON form of a paired comparison: the same inputs and seed give byte-identical text.

Keys are sorted and every float is written with 10 significant digits (enough for any p-value or score
anyone reads, and immune to the last-bit differences of summation order between machines); NaN and
infinities become null, -0.0 becomes 0.0.
"""

from __future__ import annotations

import json
import math
from typing import Any

from scoring.paired import PairedComparison, TaskComparison

SIGNIFICANT_DIGITS = 10


def report(comparison: PairedComparison) -> dict[str, Any]:
    """``{"tasks": {task: {...}}, "overall": {...}, "seed", "resamples", "runs", "notes"}``."""
    overall = comparison.overall
    return {
        "tasks": {name: _task(task) for name, task in comparison.tasks.items()},
        "overall": {
            "a": overall.a,
            "b": overall.b,
            "difference": overall.difference,
            "se": overall.se,
            "ci95": list(overall.ci95),
            "p_value": overall.p_value,
            "method": overall.method,
        },
        "runs": {"a": comparison.runs[0], "b": comparison.runs[1]},
        "seed": comparison.seed,
        "resamples": comparison.resamples,
        "notes": list(comparison.notes),
    }


def _task(task: TaskComparison) -> dict[str, Any]:
    return {
        "metric": task.metric,
        "n": task.n,
        "a": task.a,
        "b": task.b,
        "difference": task.difference,
        "se": task.se,
        "ci95": list(task.ci95),
        "p_value": task.p_value,
        "method": task.method,
    }


def dumps(data: Any) -> str:
    """Canonical JSON text: sorted keys, two-space indent, floats with fixed significant digits."""
    return json.dumps(_canonical(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
        return 0.0 if rounded == 0.0 else rounded
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value
