"""Constants and helpers shared by the evaluation integration tests (fixtures live in conftest.py)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from evaluation.command import EvalSpec, build_command

LIMIT = 8  # documents per task: enough to make scores non-trivial, small enough for 2 shared cores
BATCH_SIZE = 4
LM_EVAL = (sys.executable, "-m", "lm_eval")


def eval_command(model: Path, suite_dir: Path, tasks, out_dir: Path):
    """The exact command the platform runs for the tiny model on the suite."""
    spec = EvalSpec(
        checkpoint=str(model),
        tasks=tuple(tasks),
        output_path=str(out_dir / "output"),
        include_path=str(suite_dir),
        limit=LIMIT,
        batch_size=BATCH_SIZE,
        num_parameters=150_000,
    )
    return build_command(spec, lm_eval=LM_EVAL)


def local_slurm_profile():
    """The local test cluster, asking for one CPU so a sleeping test job and an lm-eval job fit side by side."""
    from evaluation.clusters import default_profiles

    return replace(default_profiles()["local-slurm"], cpus_per_task=1, lm_eval=LM_EVAL)
