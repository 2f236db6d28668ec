"""Whether a re-evaluation of an entry at another site reproduces the original, task by task, and whether
that lets the award go ahead. Pure: the facts are passed in.

**Deterministic** runs must give the same numbers to the last digit. A pair of runs counts as deterministic
for a task when both record the same locked software (the lock's sha256, known on both sides), the same
dtype, backend, batch size and seeds, the same GPU model (or both ran without one), and the same lm-eval task
hash (the task's prompts, few-shot examples, metric and generation settings). lm-eval's loglikelihood
scoring and greedy generation then compute the same floating-point operations in the same order; a
different GPU model, library build, dtype or batch size (padding changes the kernels) does not.

Otherwise the two values must lie **within their combined standard error**:
``|a - b| <= sqrt(se_a**2 + se_b**2)``. Without a standard error on either side (a metric lm-eval reports
none for) there is no tolerance, and the values must be equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence


@dataclass(frozen=True)
class RunFacts:
    """What decides whether two runs are deterministic replicas (from each evaluation's provenance)."""

    lock_sha256: Optional[str]
    dtype: Optional[str]
    backend: Optional[str]
    batch_size: Optional[str]
    seeds: Mapping[str, object]
    gpu_model: Optional[str]
    task_hashes: Mapping[str, Optional[str]]


@dataclass(frozen=True)
class Measured:
    """One task's counted metric of one run."""

    value: float
    stderr: Optional[float] = None


@dataclass(frozen=True)
class TaskComparison:
    """One task of the original against its reproduction."""

    task: str
    original: Optional[Measured]
    reproduced: Optional[Measured]
    deterministic: bool
    tolerance: Optional[float]  # None: must be equal
    agrees: bool
    why: str

    @property
    def difference(self) -> Optional[float]:
        if self.original is None or self.reproduced is None:
            return None
        return self.reproduced.value - self.original.value


@dataclass(frozen=True)
class Comparison:
    """Every task of the original against its reproduction; ``agrees`` when every task does."""

    tasks: tuple[TaskComparison, ...]
    not_deterministic: tuple[str, ...]  # why the pair is not a deterministic replica (empty: it is)

    @property
    def agrees(self) -> bool:
        return bool(self.tasks) and all(t.agrees for t in self.tasks)

    @property
    def discrepancies(self) -> tuple[TaskComparison, ...]:
        return tuple(t for t in self.tasks if not t.agrees)


def differences(original: RunFacts, reproduced: RunFacts) -> list[str]:
    """Why two runs are not deterministic replicas of each other, in words (empty: they are), tasks aside."""
    why = []
    if not original.lock_sha256 or not reproduced.lock_sha256:
        why.append("the locked software of a run is unknown")
    elif original.lock_sha256 != reproduced.lock_sha256:
        why.append("different software (lock files)")
    for name, a, b in (
        ("dtype", original.dtype, reproduced.dtype),
        ("backend", original.backend, reproduced.backend),
        ("batch size", original.batch_size, reproduced.batch_size),
        ("seeds", dict(original.seeds), dict(reproduced.seeds)),
        ("GPU model", original.gpu_model, reproduced.gpu_model),
    ):
        if a != b:
            why.append(f"different {name} ({a or 'none'} / {b or 'none'})")
    return why


def compare_task(
    task: str, original: Optional[Measured], reproduced: Optional[Measured], deterministic: bool
) -> TaskComparison:
    """One task: equal when deterministic, else within the combined standard error."""
    if original is None or reproduced is None:
        side = "the reproduction" if reproduced is None else "the original"
        return TaskComparison(task, original, reproduced, deterministic, None, False, f"no result in {side}")
    gap = abs(reproduced.value - original.value)
    if deterministic:
        ok = gap == 0.0
        return TaskComparison(
            task,
            original,
            reproduced,
            True,
            None,
            ok,
            "equal, as a deterministic run must be"
            if ok
            else f"differs by {gap:.6g} where a deterministic run must be equal",
        )
    if original.stderr is None or reproduced.stderr is None:
        ok = gap == 0.0
        return TaskComparison(
            task,
            original,
            reproduced,
            False,
            None,
            ok,
            "equal (no standard error to allow for)"
            if ok
            else f"differs by {gap:.6g} and there is no standard error to allow for it",
        )
    tolerance = math.hypot(original.stderr, reproduced.stderr)
    ok = gap <= tolerance
    return TaskComparison(
        task,
        original,
        reproduced,
        False,
        tolerance,
        ok,
        f"{'within' if ok else 'outside'} the combined standard error "
        f"({gap:.6g} {'<=' if ok else '>'} {tolerance:.6g})",
    )


def compare(
    original: Mapping[str, Measured],
    reproduced: Mapping[str, Measured],
    original_facts: RunFacts,
    reproduced_facts: RunFacts,
    tasks: Optional[Sequence[str]] = None,
) -> Comparison:
    """Every task of the original (or ``tasks``) against the reproduction."""
    why = differences(original_facts, reproduced_facts)
    rows = []
    for task in tasks if tasks is not None else sorted(original):
        same_task = original_facts.task_hashes.get(task) is not None and original_facts.task_hashes.get(
            task
        ) == reproduced_facts.task_hashes.get(task)
        rows.append(compare_task(task, original.get(task), reproduced.get(task), not why and same_task))
    return Comparison(tuple(rows), tuple(why))


@dataclass(frozen=True)
class ReproductionState:
    """What is known of one winner's reproduction, for the award gate."""

    comparison: Optional[Comparison]  # of the latest finished reproduction; None when none finished
    reproduction_id: Optional[int]  # that reproduction's evaluation id
    pending: bool  # a reproduction is queued or running
    resolved_for: tuple[Optional[int], ...] = ()  # the reproductions (None: a missing one) an organiser accepted


def award_block(team: str, state: ReproductionState) -> Optional[str]:
    """Why this winner blocks the award (None: it does not): no agreeing reproduction, unless an organiser
    resolved exactly this situation (a later reproduction that differs needs a new resolution)."""
    if state.comparison is not None and state.comparison.agrees:
        return None
    if state.reproduction_id in state.resolved_for:
        return None
    if state.comparison is None:
        waiting = " (one is under way)" if state.pending else ""
        return f"{team}: no reproduction at another site yet{waiting}; every winner needs one before the award"
    tasks = ", ".join(t.task for t in state.comparison.discrepancies)
    return f"{team}: the reproduction at another site differs ({tasks}); an organiser must resolve it"
