"""Speed of the paired statistics at the scale of a full board (issue 16): 1,000 entries x 20 tasks x 1,000
items each, 0/1 values (acc, acc_norm, exact_match) with errors correlated across entries as real models'.

- board: every row against the next one down on the challenge's benchmark score (``scoring.separation.
  neighbours``), target under 1 s;
- prize boundary: the full paired comparison of ranks 4 and 5 (``scoring.paired.compare_runs``: per task
  McNemar, bootstrap interval, 10,000 resamples; the overall interval resampling items within each task),
  target under 2 s; also with continuous values (index resampling and sign-flip tests instead of cell counts).

It also counts the neighbours the paired test tells apart against the unpaired "within one combined standard
error" rule the board used before. Times are the median of --repeats runs.

    .venv/bin/python bench/paired_stats.py [--entries 1000] [--tasks 20] [--items 1000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.config import TaskSpec  # noqa: E402
from scoring.paired import TaskItems, challenge_scales, compare_runs  # noqa: E402
from scoring.separation import neighbours, scaled_score  # noqa: E402


def synthetic_board(entries: int, tasks: int, items: int, seed: int = 0) -> dict[str, np.ndarray]:
    """{task: (entries x items) 0/1 matrix}: P(right) = logistic(skill - difficulty), so errors correlate."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(0.5, 0.6, entries)[:, None]
    board = {}
    for t in range(tasks):
        difficulty = rng.normal(0.0, 1.5, items)[None, :]
        board[f"task{t:02d}"] = (rng.random((entries, items)) < 1 / (1 + np.exp(difficulty - skill))).astype(float)
    return board


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    board = synthetic_board(args.entries, args.tasks, args.items)
    names = sorted(board)
    suite = [TaskSpec(n, n, 0, "acc", 1.0 + (i % 3) * 0.5, (0.25, 0.5, 0.0)[i % 3]) for i, n in enumerate(names)]
    scales = challenge_scales(suite, names)
    score = sum(scaled_score(board[n].mean(axis=1), scales[n]) for n in names)
    order = np.argsort(-score, kind="stable")
    ranked = {n: np.ascontiguousarray(board[n][order]) for n in names}
    print(f"{args.entries} entries x {args.tasks} tasks x {args.items} items, 0/1 values; median of {args.repeats}")

    seconds, result = timed(lambda: neighbours(ranked, scales), args.repeats)
    paired = int(np.count_nonzero(result.p_value < 0.05))
    one_se, two_sided = unpaired(ranked, scales, 1.0), unpaired(ranked, scales, 1.959964)
    print(f"board, {args.entries - 1} neighbour comparisons: {seconds:.3f} s (target < 1 s); told apart: "
          f"{paired} by the paired test (p < 0.05), {two_sided} by the unpaired test at p < 0.05, {one_se} by the "
          "old unpaired rule (more than one combined stderr apart)")

    a, b = ({n: TaskItems(n, "acc", np.arange(args.items), ranked[n][row]) for n in names} for row in (3, 4))
    seconds, boundary = timed(lambda: compare_runs(a, b, run_a="rank4", run_b="rank5", scales=scales), args.repeats)
    o = boundary.overall
    print(f"prize boundary (ranks 4 and 5, 10,000 resamples): {seconds:.3f} s (target < 2 s); difference "
          f"{o.difference:.4f}, 95% interval {o.ci95[0]:.4f} to {o.ci95[1]:.4f}, p = {o.p_value:.3g}")

    rng = np.random.default_rng(1)
    a, b = ({n: TaskItems(n, "f1", np.arange(args.items), np.clip(ranked[n][row] * 0.7 + rng.random(args.items) * 0.3,
                                                                    0, 1)) for n in names} for row in (3, 4))
    seconds, _ = timed(lambda: compare_runs(a, b, run_a="rank4", run_b="rank5", scales=scales), 1)
    print(f"prize boundary with continuous values (index resampling, sign-flip tests): {seconds:.3f} s")


def unpaired(ranked: dict[str, np.ndarray], scales, z: float) -> int:
    """Neighbours an unpaired rule tells apart: |difference| > z * sqrt(se_a^2 + se_b^2), each run's own stderr
    (z = 1 is the old board's "within one combined standard error", z = 1.96 the unpaired test at p < 0.05)."""
    score, variance = 0.0, 0.0
    for name, values in ranked.items():
        n, mean = values.shape[1], values.mean(axis=1)
        slope = np.where(scaled_score(mean, scales[name]) > 0, scales[name].share / (1 - scales[name].baseline), 0.0)
        score = score + scaled_score(mean, scales[name])
        variance = variance + slope ** 2 * values.var(axis=1, ddof=1) / n
    gap = score[:-1] - score[1:]
    return int(np.count_nonzero(np.abs(gap) > z * np.sqrt(variance[:-1] + variance[1:])))


if __name__ == "__main__":
    main()
