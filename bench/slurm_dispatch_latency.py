"""How fast a queued evaluation reaches an idle Slurm cluster: a real scheduler process, the real local Slurm
cluster (SLURM_CONF), several samples. For each, t0 is the moment the submission becomes accepted; we
record when its job is visible in Slurm (``squeue``) and when Slurm reports it started. The job itself is a
3-second stand-in for lm-eval (this measures dispatch, not evaluation).

    eval "$(bash scripts/services/all.sh start)"; .venv/bin/python bench/slurm_dispatch_latency.py [--samples 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, accept, add_submission, instance, scheduler_env
from sqlmodel import Session, select

from evaluation.models import Evaluation

SECTIONS = """
[benchmark]
include_path = "eval-suite"
[[benchmark.tasks]]
name = "lagc_capitals_mc"
lm_eval_task = "lagc_capitals_mc"
metric = "acc"
baseline = 0.25

[clusters.local-slurm]
cpus_per_task = 1
lm_eval = ["{python}", "-c", "import time; time.sleep(3)"]

[evaluation]
runner = "slurm"
cluster = "local-slurm"
max_concurrent = {{ local-slurm = 20 }}
max_attempts = 1
"""


def job_state(name: str) -> str | None:
    out = subprocess.run(
        ["squeue", "-h", "--states=all", "--name", name, "-o", "%T"], capture_output=True, text=True
    ).stdout.split()
    return out[0] if out else None


def sample(engine, settings, ids) -> tuple[float, float]:
    sub_id = add_submission(engine, settings, *ids, model=None, accepted=False)
    started = time.perf_counter()
    accept(engine, sub_id)
    visible = running = None
    ev_id = None
    while running is None and time.perf_counter() - started < 30:
        if ev_id is None:
            with Session(engine) as session:
                ev_id = session.exec(select(Evaluation.id).where(Evaluation.submission_id == sub_id)).first()
        if ev_id is not None:
            state = job_state(f"lagc-eval-{ev_id}-a1")
            now = time.perf_counter() - started
            if state and visible is None:
                visible = now
            if state in ("RUNNING", "COMPLETING", "COMPLETED"):
                running = now
        time.sleep(0.02)
    if running is None:
        raise SystemExit(f"sample for submission {sub_id} never started in Slurm")
    return visible, running


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lagc-bench-slurm-") as tmp:
        settings, engine, *ids = instance(Path(tmp), SECTIONS.format(python=sys.executable), runner="slurm")
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "evaluation.scheduler"],
            env=scheduler_env(settings),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(4)
            results = []
            for _ in range(args.samples):
                results.append(sample(engine, settings, ids))
                time.sleep(1.5)
        finally:
            scheduler.terminate()
            scheduler.wait(20)
    visible = [v for v, _ in results]
    started = [r for _, r in results]
    print(f"{'':22}{'median':>8}{'max':>8}  (seconds from 'accepted', {args.samples} samples)")
    print(f"{'job visible in Slurm':22}{statistics.median(visible):8.2f}{max(visible):8.2f}")
    print(f"{'job started in Slurm':22}{statistics.median(started):8.2f}{max(started):8.2f}  (target <= 2)")
    return 0 if max(started) <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
