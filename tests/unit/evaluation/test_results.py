"""Parsing lm-eval's results JSON (a real file from a run of the tiny model on the offline suite)."""

import hashlib
import json
from pathlib import Path

import pytest

from evaluation.results import ResultsError, find_results_file, headline_scores, load_results, parse_results

SAMPLE = Path(__file__).parent / "data" / "results_tiny_gpt2_limit8.json"
TASKS = ("lagc_capitals_mc", "lagc_capitals_yesno", "lagc_capitals_gen")


def test_a_real_results_file_gives_each_task_its_metrics_with_standard_errors():
    results = load_results(SAMPLE, TASKS)
    mc = results.task("lagc_capitals_mc")
    assert mc.metrics() == {"acc": (0.625, 0.18298126367784995), "acc_norm": (0.375, 0.18298126367784995)}
    assert results.task("lagc_capitals_gen").metrics() == {"exact_match": (0.0, 0.0)}
    assert (mc.n_samples_original, mc.n_samples_effective, mc.n_shot, mc.version) == (48, 8, 0, 1.0)
    assert mc.task_hash and len(mc.task_hash) == 64


def test_the_run_configuration_and_versions_are_read_from_the_file():
    results = load_results(SAMPLE)
    cfg = results.config
    assert (cfg.model, cfg.batch_size, cfg.device, cfg.dtype) == ("hf", "4", "cpu", "torch.float32")
    assert cfg.model_args["use_safetensors"] is True and cfg.model_args["trust_remote_code"] is False
    assert cfg.model_num_parameters == 148864 and cfg.limit == 8.0
    assert cfg.seeds == {"random_seed": 0, "numpy_seed": 0, "torch_seed": 0, "fewshot_seed": 0}
    assert results.lm_eval_version == "0.4.13" and results.transformers_version
    assert results.total_evaluation_time_seconds > 0


def test_parsing_never_modifies_the_raw_file():
    before = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    load_results(SAMPLE, TASKS)
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == before


def test_a_stderr_of_na_becomes_none():
    raw = json.loads(SAMPLE.read_text())
    raw["results"]["lagc_capitals_yesno"]["acc_stderr,none"] = "N/A"
    assert parse_results(raw).task("lagc_capitals_yesno").metrics() == {"acc": (0.5, None)}


def test_a_non_default_filter_is_kept_in_the_metric_name():
    raw = json.loads(SAMPLE.read_text())
    raw["results"]["lagc_capitals_gen"] = {
        "alias": "x",
        "exact_match,strict-match": 0.25,
        "exact_match_stderr,strict-match": 0.1,
    }
    assert parse_results(raw).task("lagc_capitals_gen").metrics() == {"exact_match,strict-match": (0.25, 0.1)}


def test_headline_scores_take_the_first_metric_unless_told_otherwise():
    results = load_results(SAMPLE)
    scores = headline_scores(results, ["lagc_capitals_mc"])
    assert scores == {"lagc_capitals_mc": {"metric": "acc", "value": 0.625, "stderr": 0.18298126367784995}}
    assert (
        headline_scores(results, ["lagc_capitals_mc"], {"lagc_capitals_mc": "acc_norm"})["lagc_capitals_mc"]["value"]
        == 0.375
    )
    with pytest.raises(ResultsError, match="no metric 'f1'"):
        headline_scores(results, ["lagc_capitals_mc"], {"lagc_capitals_mc": "f1"})


def test_a_missing_results_file_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(tmp_path / "results_x.json")
    with pytest.raises(ResultsError, match="no results file"):
        find_results_file(tmp_path)


def test_a_corrupt_results_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "results_2026.json"
    bad.write_text('{"results": {"lagc_capitals_mc": ')
    with pytest.raises(ResultsError, match="not valid JSON"):
        load_results(bad)


@pytest.mark.parametrize(
    "raw, message",
    [
        ([1, 2], "JSON object"),
        ({"config": {}}, "no 'results' section"),
        ({"results": {}}, "no 'config' section"),
        ({"results": {"t": {"alias": "t"}}, "config": {}}, "reports no metric"),
        ({"results": {"t": {"acc,none": "high"}}, "config": {}}, "not a number"),
    ],
)
def test_results_missing_required_parts_are_rejected_with_the_reason(raw, message):
    with pytest.raises(ResultsError, match=message):
        parse_results(raw)


def test_a_task_missing_from_the_results_is_an_error_naming_it():
    with pytest.raises(ResultsError, match="'hellaswag' is missing"):
        load_results(SAMPLE, [*TASKS, "hellaswag"])


def test_the_newest_results_file_is_found_in_the_model_subfolder(tmp_path):
    sub = tmp_path / "__models__tiny"
    sub.mkdir()
    old, new = sub / "results_2026-01-01T00-00-00.json", sub / "results_2026-02-01T00-00-00.json"
    old.write_text("{}")
    new.write_text("{}")
    import os

    os.utime(old, (1, 1))
    (sub / "samples_task_2026.jsonl").write_text("")
    assert find_results_file(tmp_path) == new
