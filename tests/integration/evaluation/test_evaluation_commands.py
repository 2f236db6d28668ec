"""The job command the scheduler builds from a pinned request, and `flask eval stage-datasets --dry-run`."""

from pathlib import Path

from evaluation.clusters import default_profiles
from evaluation.jobspec import build_job_command, output_dirs

REQUEST = {
    "checkpoint": "/models/7",
    "batch_size": 8,
    "dtype": "bfloat16",
    "device": "cuda",
    "seed": 0,
    "limit": None,
    "include_path": None,
    "num_parameters": 7_000_000_000,
    "datasets_cache": "/scratch/project/hf-datasets",
    "tasks": [
        {"name": "hellaswag", "lm_eval_task": "hellaswag", "num_fewshot": 10},
        {"name": "arc", "lm_eval_task": "arc_challenge", "num_fewshot": 25},
        {"name": "gsm8k", "lm_eval_task": "gsm8k", "num_fewshot": 10},
    ],
}


def test_jobs_read_the_staged_datasets_offline_and_run_one_lm_eval_per_fewshot_count():
    command = build_job_command(REQUEST, default_profiles()["lumi-g"], Path("/scratch/jobs/7/attempt-1"))
    assert command.env["HF_DATASETS_CACHE"] == "/scratch/project/hf-datasets"
    assert command.env["HF_DATASETS_OFFLINE"] == "1" and command.env["HF_HUB_OFFLINE"] == "1"
    assert command.argv[:2] == ("/bin/sh", "-c") and command.backend == "vllm"
    script = command.argv[2]
    assert "--tasks hellaswag,gsm8k" in script and "--num_fewshot 10" in script
    assert "--tasks arc_challenge" in script and "--num_fewshot 25" in script
    assert script.count("--log_samples") == 2  # every run logs its per-item results
    assert [str(p) for p, _ in output_dirs(REQUEST, Path("/j"))] == ["/j/output/shots-10", "/j/output/shots-25"]


def test_stage_datasets_prints_the_download_command_for_the_challenge_suite(app, db, challenge, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["eval", "stage-datasets", "--challenge", challenge, "--cache-dir", str(tmp_path / "cache"), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert f"HF_DATASETS_CACHE={tmp_path / 'cache'}" in result.output and "HF_DATASETS_OFFLINE=0" in result.output
    assert "--tasks hellaswag,arc_challenge,mmlu,gsm8k,belebele_deu_Latn" in result.output
