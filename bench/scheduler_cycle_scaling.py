"""The scheduler's own work as the queue grows: 10, 100 and 1,000 queued evaluations dispatched through the
real steps and database, with a FAKE runner that accepts every job instantly and reports it running (so this
measures the scheduler, not Slurm). Prints, per size, the time to dispatch the whole queue, the cycles it
took, the time of one following cycle with every job running, and the idle cycle; then the growth ratio
(time per evaluation at 1,000 over time per evaluation at 100: 1.0 is linear).

    .venv/bin/python bench/scheduler_cycle_scaling.py      # DATABASE_URL=postgresql+psycopg://... for PostgreSQL
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import instance
from sqlmodel import Session, select

from evaluation import jobs, services
from evaluation.models import Evaluation, EvaluationState
from evaluation.runners.base import RUNNING, RunHandle, RunStatus

SECTIONS = """
[benchmark]
include_path = "eval-suite"
[[benchmark.tasks]]
name = "lagc_capitals_mc"
lm_eval_task = "lagc_capitals_mc"
metric = "acc"
baseline = 0.25

[clusters.local]

[evaluation]
runner = "local"
cluster = "local"
max_concurrent = { local = 100000 }
allocation_gpu_hours = { local = 1000 }
"""
REQUEST = {
    "checkpoint": "/nonexistent",
    "runner": "local",
    "cluster": "local",
    "batch_size": 8,
    "dtype": "float32",
    "device": "cpu",
    "limit": None,
    "seed": 0,
    "timeout_minutes": 120,
    "include_path": None,
    "tasks": [
        {
            "name": "lagc_capitals_mc",
            "lm_eval_task": "lagc_capitals_mc",
            "num_fewshot": 0,
            "metric": "acc",
            "weight": 1.0,
            "baseline": 0.25,
            "hidden": False,
        }
    ],
}


class FakeRunner:
    """FAKE: accepts every job at once and says it runs; no process, no cluster."""

    def __init__(self):
        self.started = 0

    def start(self, command, job_dir, name="lagc-eval", time_minutes=None):
        self.started += 1
        return RunHandle(runner="local", job_id=str(self.started), job_dir=str(job_dir), token="fake")

    def poll(self, handle):
        return RunStatus(RUNNING)

    def cancel(self, handle):
        pass

    def find(self, name, job_dir):
        return None


def measure(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="lagc-bench-scale-") as tmp:
        settings, engine, challenge_id, team_id, user_id = instance(Path(tmp), SECTIONS)
        fake = FakeRunner()
        jobs.runner_for = lambda kind, setup, cluster: fake  # the fake edge; every step above it is real
        from _common import add_submission

        subs = [add_submission(engine, settings, challenge_id, team_id, user_id, None, accepted=True) for _ in range(n)]
        with Session(engine) as session:
            for sub_id in subs:
                services.create(session, challenge_id, team_id, sub_id, dict(REQUEST), 3)
            session.commit()
        cycles, started = 0, time.perf_counter()
        while fake.started < n:
            with Session(engine, expire_on_commit=False) as session:
                jobs.run_evaluations(session, settings)
                session.commit()
            cycles += 1
        dispatch = time.perf_counter() - started
        follow = _timed(engine, settings)
        with Session(engine) as session:
            running = len(session.exec(select(Evaluation.id).where(Evaluation.state == EvaluationState.running)).all())
        with Session(engine) as session:  # idle: nothing queued, nothing running
            for ev in session.exec(select(Evaluation)).all():
                ev.state = EvaluationState.finished
            session.commit()
        idle = min(_timed(engine, settings) for _ in range(5))
        engine.dispose()
        return {"n": n, "dispatch": dispatch, "cycles": cycles, "follow": follow, "idle": idle, "running": running}


def _timed(engine, settings) -> float:
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        jobs.run_evaluations(session, settings)
        session.commit()
    return time.perf_counter() - started


def main() -> int:
    rows = [measure(n) for n in (10, 100, 1000)]
    print(
        f"{'queued':>7} {'dispatch all (s)':>17} {'cycles':>7} {'ms/evaluation':>14} {'follow cycle (s)':>17} "
        f"{'idle cycle (ms)':>16}"
    )
    for r in rows:
        print(
            f"{r['n']:>7} {r['dispatch']:>17.3f} {r['cycles']:>7} {1000 * r['dispatch'] / r['n']:>14.2f} "
            f"{r['follow']:>17.3f} {1000 * r['idle']:>16.2f}"
        )
    per = {r["n"]: r["dispatch"] / r["n"] for r in rows}
    growth = per[1000] / per[100]
    print(f"growth ratio (time per evaluation at 1,000 / at 100): {growth:.2f}  (1.0 = linear; target <= 1.5)")
    ok = growth <= 1.5 and all(r["running"] == r["n"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
