"""Read the per-item results lm-eval writes with ``--log_samples`` into ``scoring.paired.TaskItems``.

An lm-eval output folder holds ``results_<time>.json`` and, beside it, one ``samples_<task>_<time>.jsonl``
per task: one JSON line per item and filter, with ``doc_id``, ``filter``, each metric's value and the
``doc_hash``, ``prompt_hash`` and ``target_hash`` of the item. The platform keeps them gzip-compressed
(``samples_<task>_<time>.jsonl.gz``, ``evaluation.archive``); both forms are read here.

A group task (``mmlu``) has no samples file of its own: its items are those of its subtasks (lm-eval's
``group_subtasks``), told apart by the subtask's name. Before a comparison uses the items, their mean must
equal the metric the results file reports, which proves the metric is a plain mean over the items (not,
say, a corpus-level BLEU) and that the samples file is complete.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from evaluation.results import EvalResults, ResultsError, parse_results
from scoring.paired import TaskItems

MEAN_TOLERANCE = 1e-9  # |mean of the items - reported value| allowed (floating-point summation order)


class SamplesError(ResultsError):
    """Per-item results are missing, unreadable or do not add up to the reported score; the message says why."""


@dataclass(frozen=True)
class ResultsFile:
    """One results file of a run: where it is, its sha256, what it reports, and its raw JSON."""

    path: Path
    sha256: str
    parsed: EvalResults
    raw: Mapping[str, Any]

    @property
    def stamp(self) -> str:
        """lm-eval's time stamp of the run, shared by its results and samples files."""
        return self.path.name[len("results_") : -len(".json")]

    def samples_path(self, task: str) -> Path | None:
        """The samples file of a (leaf) task, compressed or not, or None when lm-eval logged none."""
        for suffix in (".jsonl.gz", ".jsonl"):
            candidate = self.path.with_name(f"samples_{task}_{self.stamp}{suffix}")
            if candidate.is_file():
                return candidate
        return None


@dataclass(frozen=True)
class LmEvalRun:
    """An lm-eval output folder: each task's results file, and the run's id (the hash of its results)."""

    folder: Path
    files: tuple[ResultsFile, ...]
    by_task: Mapping[str, ResultsFile]

    @property
    def run_id(self) -> str:
        """sha256 over the sorted sha256 of its results files: the same results give the same id wherever the
        folder lives (the seed of a paired comparison is derived from it)."""
        return run_id([f.sha256 for f in self.files])

    @property
    def tasks(self) -> list[str]:
        """Every task the run reports, groups and their subtasks alike."""
        return sorted(self.by_task)

    @property
    def top_level_tasks(self) -> list[str]:
        """The tasks that are not a subtask of a group the run also reports (``mmlu``, not its 57 parts)."""
        inner = {
            child for f in self.files for children in (f.raw.get("group_subtasks") or {}).values() for child in children
        }
        return sorted(set(self.by_task) - inner)


def run_id(results_sha256: list[str]) -> str:
    """A run's id: the sha256 over the sorted sha256 of its results files (one rule for folders and for the
    evaluations whose files the platform kept, so both compare with the same seed)."""
    return hashlib.sha256("\n".join(sorted(results_sha256)).encode()).hexdigest()


def read_run(folder: str | Path) -> LmEvalRun:
    """Every results file under ``folder``; SamplesError if there is none or two report the same task."""
    root = Path(folder)
    if not root.is_dir():
        raise SamplesError(f"{root} is not a folder (give an lm-eval --output_path folder)")
    files, by_task = [], {}
    for path in sorted(root.rglob("results_*.json")):
        data = path.read_bytes()
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SamplesError(f"results file {path} is not valid JSON: {exc}") from None
        found = ResultsFile(path, hashlib.sha256(data).hexdigest(), parse_results(raw, str(path)), raw)
        files.append(found)
        for task in found.parsed.tasks:
            if task in by_task:
                raise SamplesError(
                    f"task {task} is reported by two results files under {root} "
                    f"({by_task[task].path.name} and {path.name}): give the folder of one run"
                )
            by_task[task] = found
    if not files:
        raise SamplesError(f"no results file (results_*.json) under {root}: is it an lm-eval output folder?")
    return LmEvalRun(root, tuple(files), by_task)


def task_items(run: LmEvalRun, task: str, metric: str | None = None) -> TaskItems:
    """One task's per-item values of ``metric`` (``name`` or ``name,filter``; default: the first metric
    lm-eval reports), checked against the reported score; SamplesError says what is missing or wrong."""
    source = run.by_task.get(task)
    if source is None:
        raise SamplesError(f"task {task} is not in {run.folder} (it has: {', '.join(run.tasks)})")
    reported = source.parsed.task(task).metrics()
    metric = metric or source.parsed.task(task).first_metric()
    if metric not in reported:
        raise SamplesError(f"task {task} has no metric {metric} in {run.folder} (it has: {', '.join(reported)})")
    name, _, filter_name = metric.partition(",")
    leaves = _leaves(source.raw, task)
    parts = [_leaf_items(source, leaf, name, filter_name or "none") for leaf in leaves]
    grouped = len(leaves) > 1 or leaves[0] != task
    keys = np.concatenate([_keys(leaf, ids) if grouped else ids for leaf, (ids, _, _, _) in zip(leaves, parts)])
    values = np.concatenate([p[1] for p in parts])
    items = np.concatenate(
        [np.array([f"{leaf}/{h}" for h in p[2]], dtype=object) if grouped else p[2] for leaf, p in zip(leaves, parts)]
    )
    prompts = np.concatenate([p[3] for p in parts])
    if np.unique(keys).size != keys.size:
        raise SamplesError(f"task {task}: two subtasks' items could not be told apart")
    _check_mean(task, metric, values, reported[metric][0], run.folder)
    return TaskItems(task, metric, keys, values, _task_hash(source.raw, task, leaves), items, prompts)


def task_files(run: LmEvalRun, task: str) -> list[Path]:
    """The files a task's items are read from: its results file and its (subtasks') samples files."""
    source = run.by_task.get(task)
    if source is None:
        return []
    return [source.path, *(p for p in (source.samples_path(leaf) for leaf in _leaves(source.raw, task)) if p)]


def _leaves(raw: Mapping[str, Any], task: str) -> list[str]:
    """The task itself, or every leaf under it when it is a group, in lm-eval's order."""
    groups = raw.get("group_subtasks") or {}
    if task not in groups:
        return [task]
    out: list[str] = []
    for child in groups[task]:
        out += [leaf for leaf in _leaves(raw, child) if leaf not in out]
    return out


def _keys(leaf: str, doc_ids: np.ndarray) -> np.ndarray:
    """Item keys of a group's subtask: the subtask's name (crc32) in the high bits, doc_id in the low ones."""
    if doc_ids.size and (doc_ids.min() < 0 or doc_ids.max() >= 2**31):
        raise SamplesError(f"subtask {leaf}: doc_id out of range for a group")
    return (np.int64(zlib.crc32(leaf.encode())) << np.int64(31)) | doc_ids


def _leaf_items(
    source: ResultsFile, leaf: str, name: str, filter_name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(doc_ids, values, item hashes, prompt hashes) of one leaf task's samples file, for one filter."""
    path = source.samples_path(leaf)
    if path is None:
        raise SamplesError(
            f"task {leaf} has no per-item results (samples_{leaf}_{source.stamp}.jsonl) beside "
            f"{source.path}: run lm-eval with --log_samples"
        )
    ids, values, items, prompts = [], [], [], []
    for number, line in enumerate(_lines(path), 1):
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SamplesError(f"{path}, line {number}: not JSON ({exc})") from None
        if sample.get("filter", "none") != filter_name:
            continue
        value = sample.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SamplesError(
                f"{path}, line {number}: {name} is not a per-item number ({value!r}); it may be "
                "a corpus-level metric, which cannot be compared item by item"
            )
        ids.append(int(sample["doc_id"]))
        values.append(float(value))
        items.append(f"{sample.get('doc_hash')}:{sample.get('target_hash')}")
        prompts.append(str(sample.get("prompt_hash")))
    if not ids:
        raise SamplesError(f"{path} has no item for metric {name} with filter {filter_name}")
    return (
        np.array(ids, dtype=np.int64),
        np.array(values),
        np.array(items, dtype=object),
        np.array(prompts, dtype=object),
    )


def _lines(path: Path):
    """The non-empty lines of a samples file, gzip-compressed or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield line
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SamplesError(f"{path} cannot be read: {exc}") from None


def _check_mean(task: str, metric: str, values: np.ndarray, reported: float, folder: Path) -> None:
    mean = float(np.mean(values))
    if abs(mean - reported) > MEAN_TOLERANCE:
        raise SamplesError(
            f"task {task}: the mean of the {values.size} per-item {metric} values ({mean:.6f}) is not "
            f"the reported {reported:.6f} in {folder}: the samples file is incomplete, or the metric "
            "is not a mean over items and cannot be compared item by item"
        )


def _task_hash(raw: Mapping[str, Any], task: str, leaves: list[str]) -> str | None:
    """lm-eval's task hash; for a group, a hash over its subtasks' hashes (None if one is missing)."""
    hashes = raw.get("task_hashes") or {}
    if leaves == [task]:
        return hashes.get(task)
    if any(not hashes.get(leaf) for leaf in leaves):
        return None
    return hashlib.sha256("\n".join(f"{leaf}:{hashes[leaf]}" for leaf in sorted(leaves)).encode()).hexdigest()
