"""``eval`` commands that need no lm-eval: suite-write, argument errors, a run that writes no results."""

import json

from click.testing import CliRunner

from evaluation.cli import cli


def test_suite_write_prints_the_task_names_and_writes_the_files(tmp_path):
    result = CliRunner().invoke(cli, ["suite-write", str(tmp_path / "suite")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "lagc_capitals_mc,lagc_capitals_yesno,lagc_capitals_gen"
    assert (tmp_path / "suite" / "lagc_capitals_mc.yaml").exists()


def test_a_malformed_metric_choice_is_refused(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--checkpoint", str(tmp_path), "--tasks", "t", "--metric", "acc"])
    assert result.exit_code == 2 and "TASK=METRIC" in result.output


def test_a_run_that_writes_no_results_is_reported_as_failed_with_the_reason(tmp_path):
    (tmp_path / "model").mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--checkpoint",
            str(tmp_path / "model"),
            "--tasks",
            "t",
            "--lm-eval",
            "true",
            "--work-dir",
            str(tmp_path / "job"),
        ],
    )
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert report["status"] == "failed" and "no results file" in report["reason"]
    assert report["tasks"] == {} and report["results_file"] is None
