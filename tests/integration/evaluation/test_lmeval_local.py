"""Real lm-eval on the tiny model: the platform's runner records exactly what lm-eval by hand reports."""

import json
import subprocess
import sys

import pytest

from evaluation.results import load_results

from ._support import BATCH_SIZE, LIMIT

pytestmark = pytest.mark.lmeval


@pytest.fixture(scope="session")
def through_cli(tiny_model, suite, job_root):
    """The same evaluation through ``eval run`` (command builder, local runner, results parser)."""
    suite_dir, tasks = suite
    argv = [
        sys.executable,
        "-m",
        "evaluation.cli",
        "run",
        "--checkpoint",
        str(tiny_model),
        "--tasks",
        ",".join(tasks),
        "--include-path",
        str(suite_dir),
        "--limit",
        str(LIMIT),
        "--batch-size",
        str(BATCH_SIZE),
        "--work-dir",
        str(job_root / "cli"),
        "--metric",
        "lagc_capitals_mc=acc_norm",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_the_runner_records_exactly_the_scores_of_lm_eval_run_by_hand(by_hand, through_cli, suite):
    _, tasks = suite
    assert through_cli["status"] == "succeeded"
    recorded = load_results(through_cli["results_file"], tasks)
    for task in tasks:
        assert recorded.task(task).metrics() == by_hand.task(task).metrics()  # exact floats, stderr too
        assert recorded.task(task).task_hash == by_hand.task(task).task_hash
    assert recorded.config.model_args == by_hand.config.model_args


def test_the_cli_prints_the_headline_metric_of_each_task(through_cli, by_hand, suite):
    _, tasks = suite
    assert list(through_cli["tasks"]) == list(tasks)
    mc = through_cli["tasks"]["lagc_capitals_mc"]
    assert mc["metric"] == "acc_norm"  # chosen with --metric
    assert (mc["value"], mc["stderr"]) == by_hand.task("lagc_capitals_mc").metrics()["acc_norm"]
    assert through_cli["tasks"]["lagc_capitals_yesno"]["metric"] == "acc"
    assert through_cli["tasks"]["lagc_capitals_gen"]["metric"] == "exact_match"


def test_the_results_file_records_the_pinned_settings_and_safe_model_args(through_cli):
    results = load_results(through_cli["results_file"])
    assert results.config.batch_size == str(BATCH_SIZE) and results.config.limit == LIMIT
    assert results.config.model_args["use_safetensors"] is True
    assert results.config.model_args["trust_remote_code"] is False
    assert all(t.n_samples_effective == LIMIT for t in results.tasks.values())


def test_a_checkpoint_with_only_pickle_weights_is_refused_by_lm_eval(tiny_model, suite, job_root, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_model, pickled)
    torch.save(load_file(pickled / "model.safetensors"), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    suite_dir, _ = suite
    argv = [
        sys.executable,
        "-m",
        "evaluation.cli",
        "run",
        "--checkpoint",
        str(pickled),
        "--tasks",
        "lagc_capitals_yesno",
        "--include-path",
        str(suite_dir),
        "--limit",
        "2",
        "--work-dir",
        str(job_root / "pickled"),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["status"] == "failed"
    assert "no safetensors weights" in report["reason"] and report["tasks"] == {}


def test_the_tiny_model_is_deterministic_per_seed_and_ships_only_safetensors(tiny_model, tmp_path):
    from evaluation.tinymodel import make_tiny_model

    again = make_tiny_model(tmp_path / "again", seed=0)
    other = make_tiny_model(tmp_path / "other", seed=1)
    weights = lambda d: (d / "model.safetensors").read_bytes()  # noqa: E731
    assert weights(again) == weights(tiny_model) and weights(other) != weights(tiny_model)
    names = {p.name for p in tiny_model.iterdir()}
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt")) for n in names)
    assert (tiny_model / "README.md").read_text().startswith("---\nlicense: apache-2.0\n")
    assert (tiny_model / "LICENSE").exists()
