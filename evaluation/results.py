"""Read lm-eval's results JSON into frozen dataclasses, without ever modifying the raw file.

lm-eval writes ``OUT/<model_sanitized>/results_<timestamp>.json``. Each task's scores are under
``results[task]["<metric>,<filter>"]`` with the standard error under ``"<metric>_stderr,<filter>"``
(the string ``"N/A"`` when it could not be computed, e.g. for a single document).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence


class ResultsError(Exception):
    """The results of an evaluation are missing, unreadable or incomplete. The message says which."""


@dataclass(frozen=True)
class Score:
    """One metric of one task: its value and its standard error (None when lm-eval reports "N/A")."""

    metric: str
    filter: str
    value: float
    stderr: float | None


@dataclass(frozen=True)
class TaskResult:
    """Everything lm-eval reports about one task."""

    name: str
    scores: tuple[Score, ...]
    version: Any = None
    n_shot: int | None = None
    n_samples_original: int | None = None
    n_samples_effective: int | None = None
    task_hash: str | None = None

    def metrics(self) -> dict[str, tuple[float, float | None]]:
        """``{metric: (value, stderr)}``; the metric name carries ``,filter`` only when it is not ``none``."""
        out = {}
        for s in self.scores:
            out[s.metric if s.filter == "none" else f"{s.metric},{s.filter}"] = (s.value, s.stderr)
        return out

    def first_metric(self) -> str:
        """The first metric lm-eval reports for this task (the default headline metric)."""
        return next(iter(self.metrics()))


@dataclass(frozen=True)
class RunConfig:
    """How lm-eval was run, as it recorded it."""

    model: str
    model_args: Any
    batch_size: str | None
    device: str | None
    dtype: str | None
    model_num_parameters: int | None
    limit: float | None
    seeds: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalResults:
    """A parsed results file: the tasks, the run configuration and the software versions."""

    path: str
    tasks: Mapping[str, TaskResult]
    config: RunConfig
    lm_eval_version: str | None
    transformers_version: str | None
    total_evaluation_time_seconds: float | None

    def task(self, name: str) -> TaskResult:
        """The result of one task, or ResultsError if lm-eval did not report it."""
        if name not in self.tasks:
            raise ResultsError(f"task {name!r} is missing from {self.path} (it has: {', '.join(self.tasks)})")
        return self.tasks[name]


def find_results_file(out_dir: str | Path) -> Path:
    """The newest ``results_*.json`` anywhere under out_dir (lm-eval nests it in a per-model folder)."""
    root = Path(out_dir)
    candidates = sorted(root.rglob("results_*.json"), key=lambda p: (p.stat().st_mtime, p.name))
    if not candidates:
        raise ResultsError(f"no results file (results_*.json) under {root}: the evaluation wrote no results")
    return candidates[-1]


def load_results(path: str | Path, expected_tasks: list[str] | tuple[str, ...] = ()) -> EvalResults:
    """Parse a results file; raise ResultsError if it is missing, corrupt or lacks an expected task."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"results file {p} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"results file {p} is not valid JSON: {exc}") from None
    parsed = parse_results(raw, source=str(p))
    for name in expected_tasks:
        parsed.task(name)
    return parsed


def parse_results(raw: Any, source: str = "<memory>") -> EvalResults:
    """Parse the decoded JSON of a results file (a pure function over the dict)."""
    if not isinstance(raw, dict):
        raise ResultsError(f"results file {source} does not hold a JSON object")
    for key in ("results", "config"):
        if not isinstance(raw.get(key), dict):
            raise ResultsError(f"results file {source} has no {key!r} section")
    tasks = {name: _task(name, body, raw, source) for name, body in raw["results"].items()}
    return EvalResults(
        path=source,
        tasks=tasks,
        config=_config(raw["config"]),
        lm_eval_version=raw.get("lm_eval_version"),
        transformers_version=raw.get("transformers_version"),
        total_evaluation_time_seconds=_float_or_none(raw.get("total_evaluation_time_seconds")),
    )


def _task(name: str, body: Any, raw: dict, source: str) -> TaskResult:
    if not isinstance(body, dict):
        raise ResultsError(f"results file {source}: task {name!r} has no scores")
    scores = []
    for key, value in body.items():
        if "," not in key or "_stderr," in key:
            continue
        metric, filt = key.split(",", 1)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ResultsError(f"results file {source}: {name} {key} is not a number ({value!r})")
        stderr = body.get(f"{metric}_stderr,{filt}")
        scores.append(Score(metric, filt, float(value), _float_or_none(stderr)))
    if not scores:
        raise ResultsError(f"results file {source}: task {name!r} reports no metric")
    n_samples = (raw.get("n-samples") or {}).get(name) or {}
    return TaskResult(
        name=name,
        scores=tuple(scores),
        version=(raw.get("versions") or {}).get(name),
        n_shot=(raw.get("n-shot") or {}).get(name),
        n_samples_original=n_samples.get("original"),
        n_samples_effective=n_samples.get("effective"),
        task_hash=(raw.get("task_hashes") or {}).get(name),
    )


def _config(cfg: dict) -> RunConfig:
    seeds = {k: v for k, v in cfg.items() if k.endswith("_seed")}
    params = cfg.get("model_num_parameters")
    batch = cfg.get("batch_size")
    return RunConfig(
        model=str(cfg.get("model")),
        model_args=cfg.get("model_args"),
        batch_size=None if batch is None else str(batch),
        device=cfg.get("device"),
        dtype=cfg.get("model_dtype"),
        model_num_parameters=params if isinstance(params, int) else None,
        limit=_float_or_none(cfg.get("limit")),
        seeds=seeds,
    )


def _float_or_none(value: Any) -> float | None:
    """Numbers (also numbers written as strings) as float; "N/A", None, NaN and junk as None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def headline_scores(
    results: EvalResults, tasks: Sequence[str], metric_for: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """``{task: {"metric", "value", "stderr"}}``: the metric named in metric_for, else the first one reported."""
    out = {}
    for name in tasks:
        task = results.task(name)
        metrics = task.metrics()
        metric = (metric_for or {}).get(name) or task.first_metric()
        if metric not in metrics:
            raise ResultsError(f"task {name!r} has no metric {metric!r} (it has: {', '.join(metrics)})")
        value, stderr = metrics[metric]
        out[name] = {"metric": metric, "value": value, "stderr": stderr}
    return out
