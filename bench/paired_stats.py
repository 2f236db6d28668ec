"""Speed of the paired statistics at the scale of a full board (issue 16): 1,000 entries x 20 tasks x 1,000
items each, 0/1 values (acc, acc_norm, exact_match) with errors correlated across entries as real models'.

- board: every row against the next one down on the challenge's benchmark score (``scoring.separation.
  neighbours``), target under 1 s;
- prize boundary: the full paired comparison of ranks 4 and 5 (``scoring.paired.compare_runs``: per task
  McNemar, bootstrap interval, 10,000 resamples; the overall interval resampling items within each task),
  target under 2 s; also with continuous values (index resampling and sign-flip tests instead of cell counts).

Then the same through the platform's code paths (``leaderboard.paired``): the scheduler's board step and the
prize preview's cut-off comparison of two entries' kept samples (target under 2 s).

It also counts the neighbours the paired test tells apart against the unpaired "within one combined standard
error" rule the board used before. Times are the median of --repeats runs.

    .venv/bin/python bench/paired_stats.py [--entries 1000] [--tasks 20] [--items 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.config import TaskSpec  # noqa: E402
from scoring.paired import TaskItems, challenge_scales, compare_runs  # noqa: E402
from scoring.separation import neighbours, scaled_score  # noqa: E402
from leaderboard.paired import compare_entries  # noqa: E402


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
    print(
        f"board, {args.entries - 1} neighbour comparisons: {seconds:.3f} s (target < 1 s); told apart: "
        f"{paired} by the paired test (p < 0.05), {two_sided} by the unpaired test at p < 0.05, {one_se} by the "
        "old unpaired rule (more than one combined stderr apart)"
    )

    a, b = ({n: TaskItems(n, "acc", np.arange(args.items), ranked[n][row]) for n in names} for row in (3, 4))
    seconds, boundary = timed(lambda: compare_runs(a, b, run_a="rank4", run_b="rank5", scales=scales), args.repeats)
    o = boundary.overall
    print(
        f"prize boundary (ranks 4 and 5, 10,000 resamples): {seconds:.3f} s (target < 2 s); difference "
        f"{o.difference:.4f}, 95% interval {o.ci95[0]:.4f} to {o.ci95[1]:.4f}, p = {o.p_value:.3g}"
    )

    rng = np.random.default_rng(1)
    a, b = (
        {
            n: TaskItems(
                n, "f1", np.arange(args.items), np.clip(ranked[n][row] * 0.7 + rng.random(args.items) * 0.3, 0, 1)
            )
            for n in names
        }
        for row in (3, 4)
    )
    seconds, _ = timed(lambda: compare_runs(a, b, run_a="rank4", run_b="rank5", scales=scales), 1)
    print(f"prize boundary with continuous values (index resampling, sign-flip tests): {seconds:.3f} s")
    platform_paths(ranked, suite, args)


def platform_paths(ranked: dict[str, np.ndarray], suite: list[TaskSpec], args) -> None:
    """The same work through the platform's code: the scheduler's board step (`leaderboard.paired.compare_pairs`,
    every ranked row against the next, from the per-item values it keeps in memory per evaluation, with the
    task-hash checks) and the prize preview's cut-off (`leaderboard.paired.compare_entries`: two evaluations'
    kept samples read from the storage, checked against their sha256, compared and reported as JSON)."""
    from leaderboard.paired import Pair, compare_pairs

    names, ids = sorted(ranked), np.arange(args.items)
    rows = [
        {"position": i + 1, "team_id": i + 1, "team": f"entry {i + 1}", "rank": i + 1, "is_baseline": False}
        for i in range(args.entries)
    ]
    items = {
        row["position"]: {n: TaskItems(n, "acc", ids, ranked[n][i], task_hash=f"h-{n}") for n in names}
        for i, row in enumerate(rows)
    }
    pairs = [Pair(a, b) for a, b in zip(rows, rows[1:])]
    seconds, results = timed(lambda: compare_pairs(pairs, items, suite), args.repeats)
    apart = sum(1 for r in results if r.get("distinguishable"))
    print(
        f"board step (leaderboard.paired.compare_pairs), {len(pairs)} neighbour comparisons from memory: "
        f"{seconds:.3f} s (target < 1 s); {apart} distinguishable"
    )
    with tempfile.TemporaryDirectory() as storage:
        a, b = (kept_entry(Path(storage), rank, {n: ranked[n][rank - 1] for n in names}) for rank in (4, 5))
        cold, body = timed(lambda: compare_entries(a, b, suite, storage), 1)
        warm, body = timed(lambda: compare_entries(a, b, suite, storage), args.repeats)
    print(
        f"prize cut-off (leaderboard.paired.compare_entries, ranks 4 and 5): {warm:.3f} s with the items in "
        f"memory (target < 2 s), {cold:.3f} s reading and verifying {2 * len(names)} kept samples files first; "
        f"p = {body['overall']['p_value']:.3g}"
    )


def kept_entry(storage: Path, rank: int, values: dict[str, np.ndarray]):
    """An entry whose evaluation's lm-eval output (results and samples files) is kept in ``storage`` as the
    scheduler keeps it (`evaluation.archive.keep`)."""
    from evaluation.archive import keep
    from evaluation.models import Evaluation
    from leaderboard.paired import Entry

    out = storage / "lm-eval" / str(rank)
    out.mkdir(parents=True)
    stamp = "2026-01-01T00-00-00.000000"
    for name, column in values.items():
        with open(out / f"samples_{name}_{stamp}.jsonl", "w") as fh:
            fh.writelines(
                json.dumps(
                    {
                        "doc_id": i,
                        "filter": "none",
                        "acc": float(v),
                        "doc_hash": f"d{i}",
                        "target_hash": "t",
                        "prompt_hash": "p",
                    }
                )
                + "\n"
                for i, v in enumerate(column)
            )
    results = {name: {"acc,none": float(np.mean(column)), "acc_stderr,none": 0.01} for name, column in values.items()}
    (out / f"results_{stamp}.json").write_text(
        json.dumps({"results": results, "config": {"model": "hf"}, "task_hashes": {n: f"h-{n}" for n in values}})
    )
    ev = Evaluation(
        id=rank,
        challenge_id=1,
        team_id=rank,
        submission_id=rank,
        provenance={"kept": keep([out], storage, rank)},
        request={"tasks": [{"name": n, "lm_eval_task": n, "metric": "acc"} for n in values]},
    )
    return Entry(rank, f"entry {rank}", rank, None, ev)


def unpaired(ranked: dict[str, np.ndarray], scales, z: float) -> int:
    """Neighbours an unpaired rule tells apart: |difference| > z * sqrt(se_a^2 + se_b^2), each run's own stderr
    (z = 1 is the old board's "within one combined standard error", z = 1.96 the unpaired test at p < 0.05)."""
    score, variance = 0.0, 0.0
    for name, values in ranked.items():
        n, mean = values.shape[1], values.mean(axis=1)
        slope = np.where(scaled_score(mean, scales[name]) > 0, scales[name].share / (1 - scales[name].baseline), 0.0)
        score = score + scaled_score(mean, scales[name])
        variance = variance + slope**2 * values.var(axis=1, ddof=1) / n
    gap = score[:-1] - score[1:]
    return int(np.count_nonzero(np.abs(gap) > z * np.sqrt(variance[:-1] + variance[1:])))


if __name__ == "__main__":
    main()
