"""Real lm-eval on the tiny model, twice with different few-shot settings through ``eval run``, then
``flask scores paired`` on the two output folders: the per-item samples are logged, the comparison pairs
every item, and its differences are exactly the differences of the scores lm-eval reported."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.results import load_results

from ._support import LIMIT

pytestmark = pytest.mark.lmeval
ROOT = Path(__file__).resolve().parents[3]


def scores_paired(*args: str, instance: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAGC_INSTANCE_DIR": str(instance)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "scores", "paired", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_eval_run_logs_the_per_item_samples_beside_the_results(two_runs, suite):
    _, tasks = suite
    for report in two_runs.values():
        names = sorted(Path(p).name.split("_2")[0] for p in report["samples_files"])
        assert names == sorted(f"samples_{t}" for t in tasks)
        assert all(Path(p).parent == Path(report["results_file"]).parent for p in report["samples_files"])


def test_scores_paired_pairs_every_item_and_reproduces_the_reported_differences(two_runs, suite, tmp_path):
    _, tasks = suite
    folders = [str(Path(two_runs[shots]["job_dir"]) / "output") for shots in (0, 2)]
    proc = scores_paired(*folders, instance=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    zero, two = (load_results(two_runs[shots]["results_file"]) for shots in (0, 2))
    assert set(data["tasks"]) == set(tasks)
    for task, result in data["tasks"].items():
        metric = zero.task(task).first_metric()
        a, b = zero.task(task).metrics()[metric][0], two.task(task).metrics()[metric][0]
        assert result["metric"] == metric and result["n"] == LIMIT
        assert result["a"] == pytest.approx(a, abs=1e-9) and result["b"] == pytest.approx(b, abs=1e-9)
        assert result["difference"] == pytest.approx(a - b, abs=1e-9)
        assert result["ci95"][0] <= result["difference"] <= result["ci95"][1] and 0 < result["p_value"] <= 1
    assert data["overall"]["difference"] == pytest.approx(
        sum(r["difference"] for r in data["tasks"].values()) / len(tasks), abs=1e-9
    )
    assert any("prompts differ" in note for note in data["notes"])  # few-shot examples change every prompt
    assert data["resamples"] == 10_000 and data["seed"] == 0
    assert scores_paired(*folders, instance=tmp_path).stdout == proc.stdout  # byte-identical


def test_a_folder_without_samples_is_refused_without_a_traceback(two_runs, tmp_path):
    copy = tmp_path / "no-samples"
    shutil.copytree(Path(two_runs[2]["job_dir"]) / "output", copy)
    for path in copy.rglob("samples_*"):
        path.unlink()
    proc = scores_paired(str(Path(two_runs[0]["job_dir"]) / "output"), str(copy), instance=tmp_path)
    assert proc.returncode == 1 and "has no per-item results" in proc.stderr and "Traceback" not in proc.stderr
