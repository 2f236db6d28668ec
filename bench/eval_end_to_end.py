"""End-to-end time of one evaluation through the platform against the bare lm_eval command, in one run.

Bare: ``python -m lm_eval`` with exactly the arguments the platform uses (same tiny model, offline suite,
limit, batch size, seed). Platform: a running scheduler process (``python -m evaluation.scheduler``) and a
submission that becomes accepted at t0; the clock stops when its scores are in the database (what the
team's page shows). Prints both times and the ratio; exits non-zero if the ratio is above 1.15 or the
scores differ.

    .venv/bin/python bench/eval_end_to_end.py [--limit 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, accept, add_submission, instance, scheduler_env
from sqlmodel import Session, select

from evaluation.models import Evaluation, EvaluationState, TaskResult
from evaluation.results import find_results_file, load_results
from evaluation.suite import TASK_NAMES
from evaluation.tinymodel import make_tiny_model

SECTIONS = """
[benchmark]
include_path = "eval-suite"
{tasks}
[clusters.local]

[evaluation]
runner = "local"
cluster = "local"
max_concurrent = {{ local = 1 }}
batch_size = 8
dtype = "float32"
limit = {limit}
"""
METRICS = {"lagc_capitals_mc": "acc", "lagc_capitals_yesno": "acc", "lagc_capitals_gen": "exact_match"}


def bare(model: Path, suite: Path, out: Path, limit: int) -> tuple[float, dict]:
    argv = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype=float32,use_safetensors=True,trust_remote_code=False",
        "--tasks",
        ",".join(TASK_NAMES),
        "--batch_size",
        "8",
        "--seed",
        "0",
        "--output_path",
        str(out),
        "--device",
        "cpu",
        "--include_path",
        str(suite),
        "--limit",
        str(limit),
        "--num_fewshot",
        "0",
        "--log_samples",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    results = load_results(find_results_file(out), TASK_NAMES)
    return elapsed, {t: results.task(t).metrics()[m] for t, m in METRICS.items()}


def through_platform(folder: Path, model: Path, limit: int) -> tuple[float, dict]:
    tasks = "".join(
        f'[[benchmark.tasks]]\nname = "{t}"\nlm_eval_task = "{t}"\nnum_fewshot = 0\nmetric = "{m}"\n'
        f"weight = 1.0\nbaseline = 0.0\n"
        for t, m in METRICS.items()
    )
    settings, engine, challenge_id, team_id, user_id = instance(folder, SECTIONS.format(tasks=tasks, limit=limit))
    sub_id = add_submission(engine, settings, challenge_id, team_id, user_id, model, accepted=False)
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "evaluation.scheduler"],
        env=scheduler_env(settings),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(4)  # the scheduler is up and idle, as it is in production
        started = time.perf_counter()
        accept(engine, sub_id)
        while True:
            with Session(engine) as session:
                ev = session.exec(select(Evaluation)).first()
                if ev is not None and ev.state in (EvaluationState.finished, EvaluationState.failed):
                    rows = session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id)).all()
                    break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        scheduler.terminate()
        scheduler.wait(20)
    if ev.state != EvaluationState.finished:
        raise SystemExit(f"the platform's evaluation failed: {ev.failure_reason}\n{ev.log_tail}")
    return elapsed, {r.task: (r.value, r.stderr) for r in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lagc-bench-e2e-") as tmp:
        root = Path(tmp)
        model = make_tiny_model(root / "model", seed=0)
        from evaluation.suite import write_suite

        write_suite(root / "suite")
        bare_s, bare_scores = bare(model, root / "suite", root / "bare-out", args.limit)
        platform_s, platform_scores = through_platform(root / "instance", model, args.limit)
    ratio = platform_s / bare_s
    print(f"bare lm_eval:         {bare_s:7.2f} s")
    print(f"through the platform: {platform_s:7.2f} s  (accepted -> scores in the database)")
    print(f"ratio:                {ratio:7.3f}  (target <= 1.15)")
    print(f"scores identical:     {bare_scores == platform_scores}")
    return 0 if ratio <= 1.15 and bare_scores == platform_scores else 1


if __name__ == "__main__":
    sys.exit(main())
