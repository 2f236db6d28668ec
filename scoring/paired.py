"""Paired comparisons of two runs from their per-item results (lm-eval's ``--log_samples``).

Both runs answered the same items, and models' errors are strongly correlated from item to item, so
comparing them item by item is far more sensitive than comparing two scores with their own standard
errors. For each task, over the items both runs have (aligned by lm-eval's ``doc_id``):

- ``difference = mean(a) - mean(b)``; ``se = sd(d) / sqrt(n)``, d = a - b, sd with the n - 1 denominator;
- ``ci95``: percentile interval of a paired bootstrap (``resamples`` resamples of the items);
- ``p_value``: exact McNemar for 0/1 values, else a sign-flip permutation test (``scoring.significance``).

The overall difference scores each run as the challenge does (each task normalised, the tasks weighted:
``scoring.normalise`` and ``scoring.aggregate``), or as the plain mean of the tasks; its interval comes from
the same resamples (items resampled within each task) and its p-value from the normal approximation of
that difference (``scoring.separation``, shared with the board, so they always agree).

Random draws are seeded from the seed and the two runs' ids, per task: the same inputs give the same
numbers, and swapping the runs mirrors every number exactly (the work is done in one canonical order).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from scoring.aggregate import weight_shares
from scoring.config import TaskSpec
from scoring.separation import Scale, overall_z, scaled_score
from scoring.significance import (
    RESAMPLES,
    bootstrap_means,
    is_binary,
    mcnemar_p,
    percentile_interval,
    sign_flip_p,
)


class NotComparable(ValueError):
    """The two runs cannot be compared item by item; ``reasons`` says why, one line per problem."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


@dataclass(frozen=True, eq=False)
class TaskItems:
    """One run's per-item values of one task and metric.

    ``doc_ids`` are unique integers (lm-eval's ``doc_id``); ``item_hashes`` (what each item is: its document
    and target) and ``prompt_hashes`` are optional, from the samples' ``doc_hash``/``target_hash`` and
    ``prompt_hash``; ``task_hash`` is lm-eval's hash of the whole task as run.
    """

    task: str
    metric: str
    doc_ids: np.ndarray
    values: np.ndarray
    task_hash: str | None = None
    item_hashes: np.ndarray | None = None
    prompt_hashes: np.ndarray | None = None

    def __post_init__(self) -> None:
        ids, values = np.asarray(self.doc_ids, dtype=np.int64), np.asarray(self.values, dtype=np.float64)
        if ids.ndim != 1 or ids.shape != values.shape:
            raise ValueError(f"{self.task}: doc_ids and values must be two lists of the same length")
        if np.unique(ids).size != ids.size:
            raise ValueError(f"{self.task}: a doc_id appears more than once")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{self.task}: every per-item value must be a finite number")
        object.__setattr__(self, "doc_ids", ids)
        object.__setattr__(self, "values", values)
        for name in ("item_hashes", "prompt_hashes"):
            hashes = getattr(self, name)
            if hashes is not None:
                hashes = np.asarray(hashes, dtype=object)
                if hashes.shape != ids.shape:
                    raise ValueError(f"{self.task}: one {name[:-2]} per item is needed")
                object.__setattr__(self, name, hashes)

    @classmethod
    def of(
        cls,
        task: str,
        metric: str,
        values: Mapping[int, float],
        task_hash: str | None = None,
        item_hashes: Mapping[int, str] | None = None,
    ) -> TaskItems:
        """Build from ``{doc_id: value}`` (and ``{doc_id: item hash}``), e.g. in tests and scripts."""
        ids = sorted(values)
        return cls(
            task,
            metric,
            np.array(ids, dtype=np.int64),
            np.array([values[i] for i in ids], dtype=float),
            task_hash,
            None if item_hashes is None else np.array([item_hashes[i] for i in ids], dtype=object),
        )


@dataclass(frozen=True)
class Aligned:
    """The items both runs have, in doc_id order, with what the alignment noticed."""

    doc_ids: np.ndarray
    a: np.ndarray
    b: np.ndarray
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskComparison:
    """One task: the two means, their paired difference with its uncertainty, and how p was computed."""

    metric: str
    n: int
    a: float
    b: float
    difference: float
    se: float | None
    ci95: tuple[float, float]
    p_value: float
    method: str
    notes: tuple[str, ...] = ()

    def mirrored(self) -> TaskComparison:
        """The same comparison with the runs swapped."""
        return replace(self, a=self.b, b=self.a, difference=-self.difference, ci95=(-self.ci95[1], -self.ci95[0]))


@dataclass(frozen=True)
class OverallComparison:
    """The two runs' overall scores and their paired difference."""

    a: float
    b: float
    difference: float
    se: float | None
    ci95: tuple[float, float]
    p_value: float | None
    method: str

    def mirrored(self) -> OverallComparison:
        """The same comparison with the runs swapped."""
        return replace(self, a=self.b, b=self.a, difference=-self.difference, ci95=(-self.ci95[1], -self.ci95[0]))


@dataclass(frozen=True)
class PairedComparison:
    """Everything ``scores paired`` prints: per task, overall, and what makes it reproducible."""

    tasks: Mapping[str, TaskComparison]
    overall: OverallComparison
    runs: tuple[str, str]
    seed: int
    resamples: int
    notes: tuple[str, ...] = field(default=())


def align(a: TaskItems, b: TaskItems) -> Aligned:
    """The items both runs have; NotComparable when none, when the metrics differ, or when the task
    hashes differ and the items are not shown to be the same documents with the same targets."""
    where = f"task {a.task}"
    if a.metric != b.metric:
        raise NotComparable([f"{where}: run A reports {a.metric}, run B {b.metric}; compare one metric"])
    ids, ia, ib = np.intersect1d(a.doc_ids, b.doc_ids, assume_unique=True, return_indices=True)
    if ids.size == 0:
        raise NotComparable(
            [
                f"{where}: the runs have no item in common (A has {a.doc_ids.size} items, "
                f"B has {b.doc_ids.size}); there is nothing to pair"
            ]
        )
    notes = list(_hash_notes(a, b, ia, ib, where))
    if ids.size < max(a.doc_ids.size, b.doc_ids.size):
        notes.append(
            f"{where}: compared on the {ids.size} items both runs have (A has {a.doc_ids.size}, B has {b.doc_ids.size})"
        )
    return Aligned(ids, a.values[ia], b.values[ib], tuple(notes))


def _hash_notes(a: TaskItems, b: TaskItems, ia: np.ndarray, ib: np.ndarray, where: str) -> list[str]:
    """Check the task hashes; when they differ, the per-item hashes decide whether the items are the same."""
    if a.task_hash is None or b.task_hash is None:
        return [
            f"{where}: lm-eval recorded no task hash for run {'A' if a.task_hash is None else 'B'}, "
            "so the task version could not be checked"
        ]
    if a.task_hash == b.task_hash:
        return []
    if a.item_hashes is None or b.item_hashes is None:
        raise NotComparable(
            [
                f"{where}: the task hashes differ ({a.task_hash[:12]} vs {b.task_hash[:12]}), so the "
                "runs did not evaluate the same task (another version, data or prompt)"
            ]
        )
    changed = int(np.count_nonzero(a.item_hashes[ia] != b.item_hashes[ib]))
    if changed:
        raise NotComparable(
            [
                f"{where}: the task hashes differ and {changed} of the {ia.size} shared items are "
                "other documents or targets: the runs did not answer the same questions"
            ]
        )
    notes = []
    if a.prompt_hashes is not None and b.prompt_hashes is not None:
        prompts = int(np.count_nonzero(a.prompt_hashes[ia] != b.prompt_hashes[ib]))
        if prompts:
            notes.append(
                f"{where}: the prompts differ on {prompts} of {ia.size} items (another few-shot setting "
                "or prompt template); the documents and targets are the same"
            )
    return notes or [f"{where}: the task hashes differ, but every shared item has the same document and target"]


def generator(seed: int, run_a: str, run_b: str, task: str) -> np.random.Generator:
    """The random generator of one task's resamples: from the seed and both run ids (in sorted order, so
    A-vs-B and B-vs-A draw the same numbers), and the task (so selecting tasks changes no task's numbers)."""
    first, second = sorted((run_a, run_b))
    digest = hashlib.sha256(f"lagc-paired-v1\0{seed}\0{first}\0{second}\0{task}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _compare_task(
    aligned: Aligned, metric: str, rng: np.random.Generator, resamples: int, swapped: bool
) -> tuple[TaskComparison, tuple[np.ndarray, np.ndarray]]:
    """One task's comparison (the runs in the order given; ``swapped``: run B's values come first) and its
    bootstrap means for the overall."""
    a, b, n = aligned.a, aligned.b, aligned.a.size
    d = a - b
    se = float(np.std(d, ddof=1) / np.sqrt(n)) if n > 1 else None
    draws = bootstrap_means(a, b, rng, resamples)
    if is_binary(a, b):
        first_only, second_only = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
        a_only, b_only = (second_only, first_only) if swapped else (first_only, second_only)
        p, method = mcnemar_p(a_only, b_only), f"exact McNemar ({a_only} items right in A only, {b_only} in B only)"
    else:
        p, exact = sign_flip_p(d, rng, resamples)
        method = "paired sign-flip permutation " + (
            "(exact, every sign pattern)" if exact else f"({resamples} random sign patterns)"
        )
    ci = percentile_interval(draws[0] - draws[1])
    result = TaskComparison(
        metric,
        n,
        float(np.mean(a)),
        float(np.mean(b)),
        float(np.mean(a)) - float(np.mean(b)),
        se,
        ci,
        p,
        method + "; 95% interval: paired bootstrap percentile",
        aligned.notes,
    )
    return result, draws


def compare_runs(
    a: Mapping[str, TaskItems],
    b: Mapping[str, TaskItems],
    *,
    run_a: str,
    run_b: str,
    scales: Mapping[str, Scale] | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> PairedComparison:
    """Compare run A with run B task by task and overall; NotComparable lists every task that cannot be.

    ``a`` and ``b`` map task names to each run's items; ``scales`` gives each task's share and baseline
    (``challenge_scales``), else the overall is the unweighted mean of the tasks (``equal_scales``).
    """
    if resamples < 100:
        raise ValueError("use at least 100 resamples (10,000 is the default)")
    missing = sorted(set(a) ^ set(b))
    if missing or not a:
        raise NotComparable(
            [f"task {t}: only run {'A' if t in a else 'B'} has it" for t in missing] or ["there is no task to compare"]
        )
    scales = scales or equal_scales(a)
    problems, aligned = [], {}
    for task in sorted(a):
        try:
            aligned[task] = align(a[task], b[task])
        except NotComparable as exc:
            problems += exc.reasons
    problems += [f"task {t}: no share or baseline given for it" for t in sorted(set(a) - set(scales))]
    if problems:
        raise NotComparable(problems)
    swap = run_a > run_b  # work in one canonical order, then mirror: swapping the runs mirrors every number
    tasks, draws = {}, {}
    for task, items in aligned.items():
        x = Aligned(items.doc_ids, items.b, items.a, items.notes) if swap else items
        result, draws[task] = _compare_task(x, a[task].metric, generator(seed, run_a, run_b, task), resamples, swap)
        tasks[task] = result.mirrored() if swap else result
    overall = _overall({t: ((x.b, x.a) if swap else (x.a, x.b)) for t, x in aligned.items()}, draws, scales)
    notes = tuple(note for items in aligned.values() for note in items.notes)
    return PairedComparison(tasks, overall.mirrored() if swap else overall, (run_a, run_b), seed, resamples, notes)


def _overall(
    values: Mapping[str, tuple[np.ndarray, np.ndarray]],
    draws: Mapping[str, tuple[np.ndarray, np.ndarray]],
    scales: Mapping[str, Scale],
) -> OverallComparison:
    """The overall scores, their difference, its bootstrap interval (tasks resampled independently) and p."""
    names = sorted(values)
    z = overall_z(
        [values[t][0][None, :] for t in names], [values[t][1][None, :] for t in names], [scales[t] for t in names]
    )
    boot = np.zeros_like(draws[names[0]][0])
    for t in names:
        boot += scaled_score(draws[t][0], scales[t]) - scaled_score(draws[t][1], scales[t])
    weighted = any(scales[t].baseline is not None for t in names)
    method = (
        "paired difference of the challenge's benchmark score (each task normalised, weighted)"
        if weighted
        else "paired difference of the unweighted mean of the tasks"
    )
    return OverallComparison(
        float(z.a[0]),
        float(z.b[0]),
        float(z.difference[0]),
        _none_if_nan(z.se[0]),
        percentile_interval(boot),
        _none_if_nan(z.p_value[0]),
        method + "; p: normal approximation (delta method); 95% interval: paired bootstrap "
        "percentile, items resampled within each task",
    )


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def challenge_scales(suite: Sequence[TaskSpec], tasks: Sequence[str]) -> dict[str, Scale]:
    """Each compared task's share of the benchmark score and its baseline, as ``benchmark_score`` uses them
    for an entry that has these tasks (the weights renormalised over them)."""
    by_name = {spec.name: spec for spec in suite}
    unknown = [t for t in tasks if t not in by_name]
    if unknown:
        raise NotComparable([f"task {t}: not in the challenge's suite" for t in unknown])
    shares = weight_shares([by_name[t].weight for t in tasks])
    return {t: Scale(share, by_name[t].baseline) for t, share in zip(tasks, shares)}


def equal_scales(tasks: Sequence[str] | Mapping[str, object]) -> dict[str, Scale]:
    """Each task counts 1/T of the overall, as its raw mean (no normalisation)."""
    names = list(tasks)
    return {t: Scale(1.0 / len(names), None) for t in names}
