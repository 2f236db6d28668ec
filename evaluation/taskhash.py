"""The task hashes lm-eval records for a suite, computed without a model.

lm-eval's results file holds ``task_hashes``: per task, the sha256 of the concatenated hashes of every
document, its prompt and its target (``EvaluationTracker.save_results_aggregated``), so two runs share a task
hash exactly when they asked the same questions with the same prompts and expected the same answers. This
module runs lm-eval's own ``simple_evaluate`` over the suite with a model that answers nothing (``Blank``),
which builds exactly those documents, prompts and targets (the few-shot examples drawn with the same seed)
and costs no model time, so the platform knows the hashes a site's run must record for the same suite,
limit, few-shot count and seed before any site runs it.

Run as ``python -m evaluation.taskhash --include-path DIR --tasks T1,T2 [--limit N] [--num-fewshot K]
--seed S``; it prints ``{task: hash}`` as JSON. It imports lm-eval, so it runs in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from lm_eval import evaluator
from lm_eval.api.model import LM
from lm_eval.tasks import TaskManager
from lm_eval.utils import hash_string


class Blank(LM):
    """A model that answers nothing: enough for lm-eval to build and log every request."""

    def loglikelihood(self, requests):
        return [(0.0, False) for _ in requests]

    def loglikelihood_rolling(self, requests):
        return [0.0 for _ in requests]

    def generate_until(self, requests):
        return ["" for _ in requests]


def task_hashes(
    include_path: str, tasks: Sequence[str], limit: float | None, num_fewshot: int | None, seed: int
) -> dict[str, str]:
    """``{task: hash}`` as lm-eval records it for a run of these tasks with this limit, few-shot count and seed
    (``--seed S`` sets all four of lm-eval's seeds)."""
    manager = TaskManager(include_path=include_path, include_defaults=False)
    out = evaluator.simple_evaluate(
        model=Blank(),
        tasks=list(tasks),
        task_manager=manager,
        limit=limit,
        num_fewshot=num_fewshot,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
        log_samples=True,
    )
    return {
        task: hash_string("".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"] for s in samples))
        for task, samples in out["samples"].items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--include-path", required=True)
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--limit", type=float)
    parser.add_argument("--num-fewshot", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    limit = int(args.limit) if args.limit is not None and args.limit >= 1 and args.limit.is_integer() else args.limit
    hashes = task_hashes(args.include_path, [t for t in args.tasks.split(",") if t], limit, args.num_fewshot, args.seed)
    print(json.dumps(hashes, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
